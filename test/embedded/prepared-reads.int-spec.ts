import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Embedded mode's database is one PGlite session behind every connection the pool opens, and it keeps what was
 * prepared when a connection closes: the hot reads (`Transactions.rows`, prepared by name) still run on the pool's next
 * connection instead of failing as "already exists". PGlite runs in a child process, as the other embedded checks do.
 */
describe('prepared reads on embedded PGlite', () => {
  it('run again on a new connection of the pool', async () => {
    const root = join(__dirname, '../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', join(root, 'test/support/register.js'), join(__dirname, 'support/pglite-prepared.ts')],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 120_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      first: ['pglite'],
      again: ['pglite'],
      afterNewConnection: ['pglite'],
    });
  }, 150_000);
});
