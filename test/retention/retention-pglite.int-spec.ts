import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const KEPT = '00000000-0000-4000-8000-000000000201';
const HELD = '00000000-0000-4000-8000-000000000202';

/**
 * Embedded mode (`yoke start`) runs on PGlite: the dry-run's and the sweep's statements run there as on Postgres
 * (./support/pglite-retention.ts, in a child Node process: Nest 12 is ES modules only, which Jest cannot load).
 */
describe('retention on embedded PGlite', () => {
  it('lists, erases and redacts what is due, and keeps what a hold covers', async () => {
    const root = join(__dirname, '../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', join(root, 'test/support/register.js'), join(__dirname, 'support/pglite-retention.ts')],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 120_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      counts: [{ type: 'notice', n: 1 }],
      due: [KEPT],
      held: [HELD],
      inbox: 1,
      erased: [{ session_id: KEPT, type: 'notice' }],
      inboxErased: 1,
      contents: { due: ['h0'], held: 1 },
      named: ['h0', 'h1'],
      among: ['h0'],
      redacted: 1,
      // The held session's item, input and audit content.
      wordsLeft: 3,
    });
  });
});
