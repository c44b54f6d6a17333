/**
 * bench/journeys: what a team's users do, timed through the whole server, each against a baseline measured in the
 * same run. Prints figures; never a test (test/bench/journeys-smoke.int-spec.ts runs `--smoke` so that it cannot rot).
 * Exit 0 whatever the figures; 1 only when the run itself is wrong (the API cannot read the corpus back, a request
 * fails, a journey does not complete).
 *
 *   npm run bench:journeys -- [--sessions 2000] [--items 200] [--runs 300] [--smoke] [--cpu-prof DIR]
 *     [--mode team,embedded] [--skip reads,live,cold] [--only join,turn,…] [--join-items 10000] [--turns 30] [--chunk-ms 0]
 *     [--db NAME --drop-db] [--no-sql-count] [--floor-prepared] [--server-node-flags="…"]
 *
 * 1. Reads, in each `--mode`: list sessions (first page, and searched for one session's title), get session, a history
 *    page, a whole history, against the direct SQL (the same rows fetched with one hand-written query through `pg`)
 *    and the floor for an HTTP journey (a minimal `node:http` handler in this process: the bearer token checked with
 *    one indexed lookup, that same query, the same JSON). The corpus (bench/journeys/corpus.ts: sessions, items,
 *    shares, comments) lives, in team mode, in its own database (`yoke_bench_journeys`, `yoke_bench_journeys_smoke` for
 *    --smoke, or --db) and is reused when it already holds `--sessions` × `--items`; in embedded mode it is seeded into
 *    a fresh home's database and the baselines read a copy of it (bench/journeys/embedded-corpus.ts). Target: each
 *    journey's p50 ≤ 1.5x the minimal handler's.
 * 2. Live journeys (bench/journeys/live.ts), in each `--mode`: list filtered, late join, create, create + archive,
 *    fork, comment, warm turn, time to first token, new session → first delta (`--only join,turn` runs just those;
 *    `--cpu-prof DIR` profiles the stack's server too).
 * 3. Cold start (bench/journeys/cold-start.ts): `yoke start` → /health on a warm install.
 *
 * Needs Postgres, Redis, `npm run build` (and `npm run build:web` for the cold start).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Mode } from '../test/support/env';
import { coldStart } from './journeys/cold-start';
import { LIVE_JOURNEYS, type LiveJourney, liveJourneys } from './journeys/live';
import { readJourneys } from './journeys/reads';
import { type JourneyRow, load, printJson, printRows } from './journeys/report';

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '2000' },
    items: { type: 'string', default: '200' },
    runs: { type: 'string', default: '300' },
    smoke: { type: 'boolean', default: false },
    /** The modes of the read and the live journeys. */
    mode: { type: 'string', default: 'team,embedded' },
    /** Parts to leave out: reads, live, cold. */
    skip: { type: 'string', default: '' },
    /** Only these live journeys: create, list, archive, comment, fork, join, turn, new (all when absent). */
    only: { type: 'string' },
    'join-items': { type: 'string', default: '10000' },
    /** The read journeys' corpus database (default yoke_bench_journeys, or yoke_bench_journeys_smoke). */
    db: { type: 'string' },
    /** Drop that database at the end (a test's own corpus). */
    'drop-db': { type: 'boolean', default: false },
    turns: { type: 'string', default: '30' },
    /** The fake model's pause between streamed chunks, ms (default 0). */
    'chunk-ms': { type: 'string', default: '0' },
    /** A directory for a CPU profile of the server (node --cpu-prof), written when it stops. */
    'cpu-prof': { type: 'string' },
    /**
     * Team mode's live journeys without the statement-counting relay between the server and Postgres (SQL/op then
     * n/a): what the relay, a hop in this process beside the clients, adds to each journey's time.
     */
    'no-sql-count': { type: 'boolean', default: false },
    /** The minimal handler prepares its read queries too (by default it runs them unprepared). */
    'floor-prepared': { type: 'boolean', default: false },
    /** Node's flags for the read journeys' server, space-separated: `--server-node-flags=--max-semi-space-size=4`. */
    'server-node-flags': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});

const USAGE =
  'npm run bench:journeys -- [--sessions 2000] [--items 200] [--runs 300] [--smoke] [--cpu-prof DIR] [--no-sql-count] ' +
  '[--mode team,embedded] [--skip reads,live,cold] [--only join,turn,…] [--join-items 10000] [--turns 30] [--chunk-ms 0] ' +
  '[--db NAME --drop-db] [--floor-prepared] [--server-node-flags="…"]';

async function main(): Promise<void> {
  if (flags.help) return console.log(USAGE);
  const smoke = flags.smoke;
  const skip = new Set(flags.skip.split(',').filter(Boolean));
  const only = flags.only ? new Set(flags.only.split(',').filter(Boolean) as LiveJourney[]) : undefined;
  const unknown = [...(only ?? [])].filter((j) => !LIVE_JOURNEYS.includes(j));
  if (unknown.length) throw new Error(`--only: no live journey ${unknown.join(', ')} (${LIVE_JOURNEYS.join(', ')})`);
  const rows: JourneyRow[] = [];
  console.log(`load at start: ${load()} · ${os.cpus().length} cores`);
  const failures: string[] = [];
  // Each part prints its rows as soon as it has them; one that breaks is reported and the others still run.
  const part = async (name: string, run: () => Promise<JourneyRow[]>) => {
    try {
      const got = await run();
      printRows(got);
      rows.push(...got);
    } catch (err) {
      console.error(`${name} failed:`, err);
      failures.push(name);
    }
  };
  for (const mode of flags.mode.split(',').filter(Boolean) as Mode[]) {
    if (skip.has('reads')) break;
    await part(`reads (${mode})`, () =>
      readJourneys(mode, {
        smoke,
        sessions: Number(flags.sessions),
        items: Number(flags.items),
        runs: Number(flags.runs),
        db: flags.db,
        dropDb: flags['drop-db'],
        cpuProf: flags['cpu-prof'],
        floorPrepared: flags['floor-prepared'],
        serverNodeFlags: flags['server-node-flags'].split(' ').filter(Boolean),
      }),
    );
  }
  for (const mode of flags.mode.split(',').filter(Boolean) as Mode[]) {
    if (skip.has('live')) break;
    console.log(`\nlive journeys, ${mode} mode (load ${load()})`);
    await part(`live journeys (${mode})`, () =>
      liveJourneys({
        mode,
        smoke,
        runs: smoke ? 3 : Math.min(100, Number(flags.runs)),
        turns: smoke ? 2 : Number(flags.turns),
        chunkIntervalMs: Number(flags['chunk-ms']),
        newSessions: smoke ? 1 : 8,
        joinItems: smoke ? 1500 : Number(flags['join-items']),
        joins: smoke ? 2 : 20,
        only,
        cpuProf: flags['cpu-prof'],
        countStatements: !flags['no-sql-count'],
      }),
    );
  }
  if (!skip.has('cold')) {
    console.log(`\ncold start (load ${load()})`);
    await part('cold start', async () => {
      const cold = await coldStart(smoke, smoke ? 1 : 3, flags['cpu-prof']);
      console.log(`yoke start on a fresh home: /health after ${cold.freshMs.toFixed(0)} ms`);
      return cold.rows;
    });
  }
  console.log('\nall journeys:');
  printRows(rows);
  printJson(rows);
  console.log(`load at end: ${load()} · ${os.cpus().length} cores`);
  if (failures.length) throw new Error(`the run broke in: ${failures.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
