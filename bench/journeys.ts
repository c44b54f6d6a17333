/**
 * bench/journeys: what a team's users do, timed through the whole server, each against a baseline measured in the
 * same run. Prints figures; never a test (test/bench/journeys-smoke.int-spec.ts runs `--smoke` so that it cannot rot).
 * Exit 0 whatever the figures; 1 only when the run itself is wrong (the API cannot read the corpus back, a request
 * fails, a journey does not complete).
 *
 *   npm run bench:journeys -- [--sessions 2000] [--items 200] [--runs 300] [--smoke] [--cpu-prof DIR]
 *     [--mode team,embedded] [--skip reads,live,cold] [--only join,turn,…] [--join-items 10000] [--turns 30] [--chunk-ms 0]
 *     [--db NAME --drop-db] [--no-sql-count]
 *
 * 1. Reads (team mode): list sessions, get session, a history page, a whole history, against the direct SQL (the same
 *    rows fetched with one hand-written query through `pg`) and the floor for an HTTP journey (a minimal `node:http`
 *    handler in this process: the bearer token checked with one indexed lookup, that same query, the same JSON).
 *    The corpus (bench/journeys/corpus.ts) lives in its own database (`yoke_bench_journeys`,
 *    `yoke_bench_journeys_smoke` for --smoke, or --db) and is reused when it already holds `--sessions` × `--items`.
 *    Target: each journey's p50 ≤ 1.5x the minimal handler's.
 * 2. Live journeys (bench/journeys/live.ts), in each `--mode`: list filtered, late join, create, fork, comment, warm
 *    turn, time to first token, new session → first delta (`--only join,turn` runs just those; `--cpu-prof DIR`
 *    profiles the stack's server too).
 * 3. Cold start (bench/journeys/cold-start.ts): `yoke start` → /health on a warm install.
 *
 * Needs Postgres, Redis, `npm run build` (and `npm run build:web` for the cold start).
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { Client, Pool } from 'pg';
import { parseItem } from '@yoke/protocol';
import { type Mode, REDIS_URL } from '../test/support/env';
import { freePort, Proc, SERVER_MAIN, spawnNode, tempDir } from '../test/support/processes';
import { coldStart } from './journeys/cold-start';
import { dropDatabase, ensureDatabase, orgs, seed, TOKEN } from './journeys/corpus';
import { LIVE_JOURNEYS, type LiveJourney, liveJourneys } from './journeys/live';
import { type JourneyRow, printJson, printRows } from './journeys/report';

const TARGET_RATIO = 1.5;
const PAGE = 20;
const LIST_LIMIT = 50;

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '2000' },
    items: { type: 'string', default: '200' },
    runs: { type: 'string', default: '300' },
    smoke: { type: 'boolean', default: false },
    /** The live journeys' modes (the read journeys' corpus is team mode's). */
    mode: { type: 'string', default: 'team,embedded' },
    /** Parts to leave out: reads, live, cold. */
    skip: { type: 'string', default: '' },
    /** Only these live journeys: create, list, comment, fork, join, turn, new (all when absent). */
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
    help: { type: 'boolean', default: false },
  },
});

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The same rows, each in one hand-written query.
const SESSION_COLUMNS = `s.id, s.org_id, s.owner_id, s.title, s.agent, s.harness, s.model, s.runner_id,
  s.status::text AS status, s.status_reason, s.parent_id, s.forked_from_id, s.forked_from_seq, s.last_seq, s.cost_usd,
  s.input_tokens, s.output_tokens, s.created_at, s.updated_at, r.online AS runner_online, r.name AS runner_name,
  r.revoked_at AS runner_revoked_at`;
const LIST_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
  WHERE s.org_id = $1 AND s.status <> 'archived' ORDER BY s.updated_at DESC, s.id DESC LIMIT $2`;
const GET_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
  WHERE s.org_id = $1 AND s.id = $2`;
const ITEMS_SQL = `SELECT i.seq, i.turn_id, i.actor, i.body, i.created_at,
    (SELECT last_seq FROM sessions WHERE org_id = $1 AND id = $2) AS last_seq
  FROM session_items i WHERE i.org_id = $1 AND i.session_id = $2 AND i.seq > $3 ORDER BY i.seq LIMIT $4`;

type SessionSqlRow = {
  id: string;
  org_id: string;
  owner_id: string;
  title: string;
  agent: unknown;
  harness: string;
  model: string | null;
  runner_id: string | null;
  status: string;
  status_reason: string | null;
  parent_id: string | null;
  forked_from_id: string | null;
  forked_from_seq: number | null;
  last_seq: number;
  cost_usd: string;
  input_tokens: string;
  output_tokens: string;
  created_at: Date;
  updated_at: Date;
  runner_online: boolean | null;
  runner_name: string | null;
  runner_revoked_at: Date | null;
};
type ItemSqlRow = {
  seq: number;
  turn_id: string | null;
  actor: unknown;
  body: Record<string, unknown>;
  created_at: Date;
  last_seq: number;
};

function sessionJson(r: SessionSqlRow) {
  return {
    id: r.id,
    orgId: r.org_id,
    ownerId: r.owner_id,
    title: r.title,
    agent: r.agent,
    harness: r.harness,
    model: r.model,
    runnerId: r.runner_id,
    runnerOnline: r.runner_online ?? false,
    runnerName: r.runner_name,
    runnerRevoked: !!r.runner_revoked_at,
    status: r.status,
    statusReason: r.status_reason,
    parentId: r.parent_id,
    forkedFrom: r.forked_from_id ? { sessionId: r.forked_from_id, seq: r.forked_from_seq ?? 0 } : null,
    lastSeq: r.last_seq,
    costUsd: Number(r.cost_usd),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function itemJson(sessionId: string, r: ItemSqlRow) {
  return {
    ...r.body,
    seq: r.seq,
    sessionId,
    ...(r.turn_id ? { turnId: r.turn_id } : {}),
    ...(r.actor ? { actor: r.actor } : {}),
    createdAt: r.created_at.toISOString(),
  };
}

/** The floor for an HTTP journey: token by its hash (one indexed lookup), the one query, the JSON. */
function minimalHandler(pool: Pool): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const hash = bearer ? createHash('sha256').update(bearer).digest('hex') : '';
    const tok = await pool.query<{ org_id: string }>(
      'SELECT org_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const orgId = tok.rows[0]?.org_id;
    if (!orgId) return send(res, 401, { error: 'unauthorized' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, , , , id, sub] = url.pathname.split('/'); // /api/v1/sessions/:id/items
    if (!id) {
      const rows = (await pool.query<SessionSqlRow>(LIST_SQL, [orgId, LIST_LIMIT + 1])).rows;
      const page = rows.slice(0, LIST_LIMIT);
      return send(res, 200, { sessions: page.map(sessionJson), nextCursor: rows.length > LIST_LIMIT ? 'next' : null });
    }
    if (!sub) {
      const [row] = (await pool.query<SessionSqlRow>(GET_SQL, [orgId, id])).rows;
      return row ? send(res, 200, sessionJson(row)) : send(res, 404, { error: 'not found' });
    }
    const afterSeq = Number(url.searchParams.get('afterSeq') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const rows = (await pool.query<ItemSqlRow>(ITEMS_SQL, [orgId, id, afterSeq, limit + 1])).rows;
    if (rows.length === 0) return send(res, 404, { error: 'not found' });
    return send(res, 200, {
      items: rows.slice(0, limit).map((r) => itemJson(id, r)),
      lastSeq: rows[0].last_seq,
      hasMore: rows.length > limit,
    });
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

type Journey = {
  name: string;
  path: (i: number) => string;
  direct: (i: number) => Promise<unknown>;
};

/** Transactions committed in the bench database (statements here: the server and the handler run no explicit ones). */
async function commits(pg: Client, db: string): Promise<number> {
  await pg.query('SELECT pg_stat_clear_snapshot()');
  const [r] = (await pg.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [db]))
    .rows;
  return Number(r.n);
}

const USAGE =
  'npm run bench:journeys -- [--sessions 2000] [--items 200] [--runs 300] [--smoke] [--cpu-prof DIR] [--no-sql-count] ' +
  '[--mode team,embedded] [--skip reads,live,cold] [--only join,turn,…] [--join-items 10000] [--turns 30] [--chunk-ms 0] ' +
  '[--db NAME --drop-db]';

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
  if (!skip.has('reads')) await part('reads', readJourneys);
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
  console.log(
    'list sessions searched: the API has no search (the web filters the loaded page); archive: no API archives a ' +
      'session. Neither is measured.',
  );
  console.log(`load at end: ${load()} · ${os.cpus().length} cores`);
  if (failures.length) throw new Error(`the run broke in: ${failures.join(', ')}`);
}

/** The read journeys against the team-mode corpus, with the minimal handler and the direct SQL. */
async function readJourneys(): Promise<JourneyRow[]> {
  const smoke = flags.smoke;
  const rows: JourneyRow[] = [];
  const sessions = smoke ? 20 : Number(flags.sessions);
  const items = smoke ? 20 : Number(flags.items);
  const runs = smoke ? 20 : Number(flags.runs);
  const db = flags.db ?? (smoke ? 'yoke_bench_journeys_smoke' : 'yoke_bench_journeys');
  if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`--db: not a plain database name: ${db}`);
  const url = await ensureDatabase(db);
  const port = await freePort();
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    YOKE_HOME: tempDir('yoke-bench-journeys'),
    LOG_LEVEL: 'info',
    DATABASE_URL: url,
    REDIS_URL,
    REDIS_PREFIX: `bench-journeys-${randomUUID().slice(0, 8)}`,
    YOKE_EMBEDDED: '0',
    YOKE_BOOTSTRAP_TOKEN: TOKEN,
  };
  const profile = flags['cpu-prof'];
  const server = profile
    ? new Proc(
        spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profile}`, SERVER_MAIN], {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      )
    : spawnNode(SERVER_MAIN, [], env);
  const pg = new Client({ connectionString: url });
  const pool = new Pool({ connectionString: url, max: 4 });
  const floor = minimalHandler(pool);
  try {
    await server.waitForLine((l) => l.includes('yoke server listening'), 120_000);
    await pg.connect();
    const [org] = await orgs(pg).then(async (o) => (await seed(pg, o, sessions, items), o));
    await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
    const floorPort = (floor.address() as AddressInfo).port;
    const yoke = `http://127.0.0.1:${port}/api/v1`;
    const minimal = `http://127.0.0.1:${floorPort}/api/v1`;
    const ids = (
      await pg.query<{ id: string }>('SELECT id FROM sessions WHERE org_id = $1 ORDER BY created_at', [org.orgId])
    ).rows.map((r) => r.id);
    const idOf = (i: number) => ids[(i * 7) % ids.length];
    const midPage = Math.max(0, Math.floor(items / 2) - PAGE);

    const get = async (base: string, path: string): Promise<unknown> => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (res.status !== 200) throw new Error(`GET ${base}${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };

    // Correctness first: the API reads a whole session back, every item parses, and the floor answers the same JSON.
    const sample = idOf(0);
    const page = (await get(yoke, `/sessions/${sample}/items?limit=1000`)) as { items: unknown[]; lastSeq: number };
    const bad = page.items.map((x) => parseItem(x)).filter((r) => !r.ok);
    if (page.items.length !== items || page.lastSeq !== items || bad.length > 0) {
      throw new Error(
        `the API cannot read the corpus: ${page.items.length}/${items} items, lastSeq ${page.lastSeq}` +
          (bad[0] && !bad[0].ok ? `; first bad item: ${bad[0].message}` : ''),
      );
    }
    const journeys: Journey[] = [
      {
        name: 'list sessions (first page)',
        path: () => '/sessions',
        direct: () => pg.query(LIST_SQL, [org.orgId, LIST_LIMIT + 1]),
      },
      {
        name: 'get session',
        path: (i) => `/sessions/${idOf(i)}`,
        direct: (i) => pg.query(GET_SQL, [org.orgId, idOf(i)]),
      },
      {
        name: `history page (${PAGE} items)`,
        path: (i) => `/sessions/${idOf(i)}/items?afterSeq=${midPage}&limit=${PAGE}`,
        direct: (i) => pg.query(ITEMS_SQL, [org.orgId, idOf(i), midPage, PAGE + 1]),
      },
      {
        name: `history (${items} items)`,
        path: (i) => `/sessions/${idOf(i)}/items?limit=${items}`,
        direct: (i) => pg.query(ITEMS_SQL, [org.orgId, idOf(i), 0, items + 1]),
      },
    ];
    const differs: string[] = [];
    for (const j of journeys) {
      const [a, b] = await Promise.all([get(yoke, j.path(1)), get(minimal, j.path(1))]);
      // The list's cursor is opaque: compare the pages only.
      const strip = (x: unknown) => (j.name.startsWith('list') ? (x as { sessions: unknown }).sessions : x);
      if (!isDeepStrictEqual(strip(a), strip(b))) differs.push(j.name);
    }
    console.log(
      `sample ${sample}: ${items} items read back and parsed; minimal handler's JSON ` +
        (differs.length ? `DIFFERS for ${differs.join(', ')}` : 'equal to the API for every journey'),
    );

    // SQL per operation: pg_stat_statements needs shared_preload_libraries; without it, committed transactions.
    let counter = 'xact_commit delta (pg_stat_database; each statement outside a transaction is one)';
    try {
      await pg.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await pg.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
      counter = 'pg_stat_statements available but not used (same xact_commit method kept for all three)';
    } catch {
      // not loaded: the fallback below
    }
    // A backend that just flushed its counters reports the next ones when it has been idle for 10 s: wait that out.
    const FLUSH_MS = smoke ? 1500 : 10_500;
    await sleep(FLUSH_MS);
    const perOp = async (op: (i: number) => Promise<unknown>, n: number): Promise<number> => {
      const before = await commits(pg, db);
      for (let i = 0; i < n; i++) await op(i);
      await sleep(FLUSH_MS);
      const after = await commits(pg, db);
      return (after - before - 2) / n; // minus this reader's own two snapshot reads
    };
    const ops = smoke ? 10 : 50;
    const idle = await perOp(() => Promise.resolve(), ops);
    const statements = new Map<string, { yoke: number; floor: number; direct: number }>();
    for (const j of journeys) {
      statements.set(j.name, {
        yoke: (await perOp((i) => get(yoke, j.path(i)), ops)) - idle,
        floor: (await perOp((i) => get(minimal, j.path(i)), ops)) - idle,
        direct: 1, // one hand-written statement by construction
      });
    }

    // Warm-up, then interleaved timing: each run times each journey on the three, order rotated.
    for (let i = 0; i < (smoke ? 5 : 30); i++) {
      for (const j of journeys) {
        await get(yoke, j.path(i));
        await get(minimal, j.path(i));
        await j.direct(i);
      }
    }
    const times = journeys.map(() => ({ yoke: [] as number[], floor: [] as number[], direct: [] as number[] }));
    const started = Date.now();
    console.log(`load before timing: ${load()}`);
    for (let i = 0; i < runs; i++) {
      for (const [k, j] of journeys.entries()) {
        const variants: [keyof (typeof times)[number], () => Promise<unknown>][] = [
          ['yoke', () => get(yoke, j.path(i))],
          ['floor', () => get(minimal, j.path(i))],
          ['direct', () => j.direct(i)],
        ];
        for (let v = 0; v < 3; v++) {
          const [key, run] = variants[(v + i) % 3];
          const t = process.hrtime.bigint();
          await run();
          times[k][key].push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;

    const f = (x: number, w = 8) => x.toFixed(2).padStart(w);
    console.log(
      `\n${'journey (ms)'.padEnd(28)} ${'Yoke p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ` +
        `${'rps'.padStart(6)} ${'min p50'.padStart(8)} ${'SQL p50'.padStart(8)} ${'ratio'.padStart(7)} ` +
        `${'SQL/op Yoke'.padStart(11)} ${'min'.padStart(5)} ${'SQL'.padStart(5)} ${'req/op'.padStart(6)}  target`,
    );
    let failed = 0;
    for (const [k, j] of journeys.entries()) {
      const t = times[k];
      for (const xs of [t.yoke, t.floor, t.direct]) xs.sort((a, b) => a - b);
      const mean = t.yoke.reduce((s, x) => s + x, 0) / t.yoke.length;
      const ratio = pct(t.yoke, 50) / pct(t.floor, 50);
      const pass = ratio <= TARGET_RATIO;
      if (!pass) failed++;
      const st = statements.get(j.name) ?? { yoke: NaN, floor: NaN, direct: NaN };
      rows.push({
        journey: j.name,
        mode: 'team',
        times: t.yoke,
        reqPerOp: 1,
        sqlPerOp: st.yoke,
        baseline: { label: 'min handler', p50: pct(t.floor, 50) },
        target: `${ratio.toFixed(1)}x ≤ ${TARGET_RATIO}x`,
        verdict: smoke ? 'not asserted (smoke)' : pass ? 'PASS' : 'FAIL',
      });
      console.log(
        `${j.name.padEnd(28)} ${f(pct(t.yoke, 50))} ${f(pct(t.yoke, 95))} ${f(pct(t.yoke, 99))} ` +
          `${(1000 / mean).toFixed(0).padStart(6)} ${f(pct(t.floor, 50))} ${f(pct(t.direct, 50))} ` +
          `${(ratio.toFixed(1) + 'x').padStart(7)} ${st.yoke.toFixed(1).padStart(11)} ${st.floor.toFixed(1).padStart(5)} ` +
          `${st.direct.toFixed(1).padStart(5)} ${'1'.padStart(6)}  ` +
          (smoke ? '(smoke: not asserted)' : pass ? 'PASS' : 'FAIL'),
      );
    }
    console.log(
      `\nrps: sequential Yoke requests per second (1 / mean). SQL/op: ${counter}, idle background ` +
        `${idle.toFixed(2)}/op subtracted. req/op: HTTP requests per journey.`,
    );
    console.log(
      `${sessions.toLocaleString()} sessions × ${items} items over 2 orgs · ${runs} runs in ${seconds.toFixed(0)} s · ` +
        `target p50 ≤ ${TARGET_RATIO}x the minimal handler: ` +
        (smoke ? 'not asserted (smoke)' : failed ? `${failed} of ${journeys.length} FAIL` : 'PASS') +
        ` · load at end ${load()} · ${os.cpus().length} cores`,
    );
  } finally {
    floor.closeAllConnections();
    floor.close();
    await pool.end().catch(() => undefined);
    await pg.end().catch(() => undefined);
    await server.kill('SIGTERM');
    if (flags['drop-db']) await dropDatabase(db);
  }
  return rows;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
