import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { uniqueName } from '../support/env';
import { ROOT } from '../support/processes';

/**
 * `bench:journeys --smoke` still runs end to end, so that the benchmark cannot rot: the read journeys (on a corpus in
 * a database of this test's own, dropped after) and the live journeys in team mode, each printing its row with a
 * number of SQL statements per operation; and the read journeys in embedded mode (a fresh home seeded with the same
 * corpus, the baselines on a copy of its database). Times are never asserted. Embedded mode's live journeys and the
 * cold start (tens of seconds on a fresh home) are left to `npm run bench:journeys -- --smoke`.
 */
const JOURNEYS = [
  'list sessions (first page)',
  'list sessions (searched)',
  'get session',
  'history page (20 items)',
  'history (20 items)',
  'create session',
  'list sessions (filtered: status)',
  'create + archive',
  'add a comment',
  'fork at an item (100 items)',
  'late join (1,500 items)',
  'warm turn (prompt → turn_completed)',
  'time to first token',
  'new session → first delta',
];

type Row = { journey: string; mode: string; p50: number; runs: number; sqlPerOp: number | null; verdict: string };

function runBench(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'bench/register.js'), join(ROOT, 'bench/journeys.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('bench:journeys --smoke', () => {
  it('runs every team-mode journey and prints its row with statements per operation', async () => {
    const db = uniqueName('yoke_bench_journeys_t');
    const { code, out } = await runBench(['--smoke', '--mode', 'team', '--skip', 'cold', '--db', db, '--drop-db']);
    if (code !== 0) throw new Error(`the bench exited ${code}:\n${out.slice(-4000)}`);

    const table = out.split('\n').filter((l) => l.startsWith('journey: '));
    for (const name of JOURNEYS) expect(table.some((l) => l.startsWith(`journey: ${name} `))).toBe(true);
    const json = out.split('\n').find((l) => l.startsWith('journeys-json: '));
    const rows = JSON.parse(json!.slice('journeys-json: '.length)) as Row[];
    expect(rows.map((r) => r.journey)).toEqual(JOURNEYS);
    for (const r of rows) {
      expect(r.mode).toBe('team');
      expect(['not asserted (smoke)', 'no target']).toContain(r.verdict);
      expect(r.runs).toBeGreaterThan(0);
      expect(Number.isFinite(r.p50) && r.p50 > 0).toBe(true);
      expect(typeof r.sqlPerOp === 'number' && Number.isFinite(r.sqlPerOp)).toBe(true);
    }
    // A write runs SQL: a count of zero would mean the counter no longer sees the server's statements.
    expect(rows.find((r) => r.journey === 'create session')!.sqlPerOp).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it("runs the read journeys in embedded mode, the baselines on a copy of the server's database", async () => {
    const { code, out } = await runBench(['--smoke', '--mode', 'embedded', '--skip', 'live,cold']);
    if (code !== 0) throw new Error(`the bench exited ${code}:\n${out.slice(-4000)}`);
    // The minimal handler reads the copy and answers the same JSON as the API: the copy holds the server's rows.
    expect(out).toContain("minimal handler's JSON equal to the API for every journey");
    const json = out.split('\n').find((l) => l.startsWith('journeys-json: '));
    const rows = JSON.parse(json!.slice('journeys-json: '.length)) as Row[];
    expect(rows.map((r) => r.journey)).toEqual(JOURNEYS.slice(0, 5));
    for (const r of rows) {
      expect(r.mode).toBe('embedded');
      expect(r.verdict).toBe('not asserted (smoke)');
      expect(Number.isFinite(r.p50) && r.p50 > 0).toBe(true);
      // PGlite is the server process's: its statements are not counted, and the row says so.
      expect(r.sqlPerOp).toBeNull();
    }
  }, 300_000);
});
