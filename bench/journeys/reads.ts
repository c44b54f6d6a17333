/**
 * bench/journeys' read journeys, in one mode: list sessions, get session, a history page and a whole history through
 * the API, each interleaved with its two baselines (the direct SQL and a minimal `node:http` handler), on the corpus
 * of bench/journeys/corpus.ts (team: its own Postgres database; embedded: a fresh home and a copy of its database for
 * the baselines, bench/journeys/embedded-corpus.ts). See bench/journeys.ts for the flags and bench/README.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client, Pool } from 'pg';
import { parseItem } from '@yoke/protocol';
import { type Mode, REDIS_URL } from '../../test/support/env';
import { freePort, type Proc, SERVER_MAIN, spawnNode, tempDir } from '../../test/support/processes';
import { dropDatabase, ensureDatabase, type Org, orgs, seed, TOKEN } from './corpus';
import { embeddedCorpus, embeddedEnv } from './embedded-corpus';
import { GET_SQL, ITEMS_SQL, LIST_LIMIT, LIST_SQL, minimalHandler, SEARCH_SQL, searchPattern } from './minimal-handler';
import { type JourneyRow, load, pct } from './report';

const TARGET_RATIO = 1.5;
const PAGE = 20;

export type ReadOptions = {
  /** Small sizes and few runs, no verdicts. */
  smoke: boolean;
  sessions: number;
  items: number;
  runs: number;
  /** Team mode's corpus database (default yoke_bench_journeys, or yoke_bench_journeys_smoke). */
  db?: string;
  /** Drop that database at the end. */
  dropDb: boolean;
  /** A directory for a CPU profile of the server. */
  cpuProf?: string;
  /** Node's flags for the server (as shipped: `--max-semi-space-size=4`, apps/cli start.ts and the image). */
  serverNodeFlags: string[];
  /** The minimal handler prepares its queries too. */
  floorPrepared: boolean;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Where the read journeys run, in one mode. */
type ReadSetup = {
  server: Proc;
  port: number;
  /** The caller's bearer token: the bootstrap token (team), the local secret (embedded). */
  token: string;
  org: Org;
  /** The minimal handler's connections. */
  pool: Pool;
  /** The org a bearer token acts in, found with one indexed lookup (the minimal handler's check). */
  floorOrg: (bearer: string) => Promise<string | undefined>;
  /** One statement of the direct SQL (and of this bench's own reads of the corpus). */
  direct: (text: string, params: unknown[]) => Promise<{ rows: unknown[] }>;
  /** Transactions committed in the corpus' database so far (team); absent where they cannot be counted. */
  commits?: () => Promise<number>;
  close: () => Promise<void>;
};

/** The server for the read journeys: node's flags from `--server-node-flags`, profiled with `--cpu-prof`. */
function readServer(env: NodeJS.ProcessEnv, opts: ReadOptions): Proc {
  const profile = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : [];
  return spawnNode(SERVER_MAIN, [], env, [...opts.serverNodeFlags, ...profile]);
}

/** Team mode: the corpus in its own Postgres database (reused), the server on Postgres and Redis. */
async function teamReads(opts: ReadOptions, sessions: number, items: number): Promise<ReadSetup> {
  const db = opts.db ?? (opts.smoke ? 'yoke_bench_journeys_smoke' : 'yoke_bench_journeys');
  if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`--db: not a plain database name: ${db}`);
  const url = await ensureDatabase(db);
  const port = await freePort();
  const server = readServer(
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      YOKE_HOME: tempDir('yoke-bench-journeys'),
      LOG_LEVEL: 'info',
      DATABASE_URL: url,
      REDIS_URL,
      REDIS_PREFIX: `bench-journeys-${randomUUID().slice(0, 8)}`,
      YOKE_EMBEDDED: '0',
      YOKE_BOOTSTRAP_TOKEN: TOKEN,
    },
    opts,
  );
  const pg = new Client({ connectionString: url });
  const pool = new Pool({ connectionString: url, max: 4 });
  const close = async () => {
    await pool.end().catch(() => undefined);
    await pg.end().catch(() => undefined);
    await server.kill('SIGTERM');
    if (opts.dropDb) await dropDatabase(db);
  };
  try {
    await server.waitForLine((l) => l.includes('yoke server listening'), 120_000);
    await pg.connect();
    const [org] = await orgs(pg).then(async (o) => (await seed(pg, o, sessions, items), o));
    return {
      server,
      port,
      token: TOKEN,
      org,
      pool,
      floorOrg: async (bearer) => {
        const hash = createHash('sha256').update(bearer).digest('hex');
        const tok = await pool.query<{ org_id: string }>(
          'SELECT org_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
          [hash],
        );
        return tok.rows[0]?.org_id;
      },
      direct: (text, params) => pg.query(text, params),
      commits: () => commits(pg, db),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Embedded mode: a fresh home seeded with the same corpus (bench/journeys/embedded-corpus.ts), the server on it, and
 * the minimal handler and the direct SQL on a copy of its database opened the same way (one connection, as the
 * server's). Statements per operation are not counted here.
 */
async function embeddedReads(opts: ReadOptions, sessions: number, items: number): Promise<ReadSetup> {
  const corpus = await embeddedCorpus(sessions, items);
  const port = await freePort();
  const server = readServer(embeddedEnv(corpus.home, port), opts);
  const pool = new Pool({ connectionString: corpus.floorUrl, max: 1 });
  const close = async () => {
    await pool.end().catch(() => undefined);
    await corpus.stopFloor().catch(() => undefined);
    await server.kill('SIGTERM');
  };
  try {
    await server.waitForLine((l) => l.includes('yoke server listening'), 120_000);
    const token = readFileSync(join(corpus.home, 'local-token'), 'utf8').trim();
    const { orgId, ownerId } = corpus.org;
    return {
      server,
      port,
      token,
      org: corpus.org,
      pool,
      // The server holds the local secret in memory; the lookup is the local user's membership.
      floorOrg: async (bearer) => {
        if (bearer !== token) return undefined;
        const m = await pool.query<{ org_id: string }>(
          'SELECT org_id FROM memberships WHERE org_id = $1 AND user_id = $2',
          [orgId, ownerId],
        );
        return m.rows[0]?.org_id;
      },
      direct: (text, params) => pool.query(text, params),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The read journeys against the corpus in `mode`, with the minimal handler and the direct SQL. */
export async function readJourneys(mode: Mode, opts: ReadOptions): Promise<JourneyRow[]> {
  const smoke = opts.smoke;
  const rows: JourneyRow[] = [];
  const sessions = smoke ? 20 : opts.sessions;
  const items = smoke ? 20 : opts.items;
  const runs = smoke ? 20 : opts.runs;
  const setup = mode === 'team' ? await teamReads(opts, sessions, items) : await embeddedReads(opts, sessions, items);
  const { port, token, org, direct } = setup;
  const floor = minimalHandler(setup.pool, setup.floorOrg, opts.floorPrepared);
  try {
    await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
    const floorPort = (floor.address() as AddressInfo).port;
    const yoke = `http://127.0.0.1:${port}/api/v1`;
    const minimal = `http://127.0.0.1:${floorPort}/api/v1`;
    const ids = (
      (await direct('SELECT id FROM sessions WHERE org_id = $1 ORDER BY created_at', [org.orgId])).rows as {
        id: string;
      }[]
    ).map((r) => r.id);
    const idOf = (i: number) => ids[(i * 7) % ids.length];
    // One session of the org by its title (corpus.ts: "Session <n>: …", the org's sessions are the even n): every
    // session of the org is read to find it, the list's worst case.
    const searched = (i: number) => `Session ${2 * ((i * 7) % Math.floor(sessions / 2)) + 2}:`;
    const midPage = Math.max(0, Math.floor(items / 2) - PAGE);

    const get = async (base: string, path: string): Promise<unknown> => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
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
        direct: () => direct(LIST_SQL, [org.orgId, LIST_LIMIT + 1]),
      },
      {
        name: 'list sessions (searched)',
        path: (i) => `/sessions?q=${encodeURIComponent(searched(i))}`,
        direct: (i) => direct(SEARCH_SQL, [org.orgId, LIST_LIMIT + 1, searchPattern(searched(i))]),
      },
      {
        name: 'get session',
        path: (i) => `/sessions/${idOf(i)}`,
        direct: (i) => direct(GET_SQL, [org.orgId, idOf(i)]),
      },
      {
        name: `history page (${PAGE} items)`,
        path: (i) => `/sessions/${idOf(i)}/items?afterSeq=${midPage}&limit=${PAGE}`,
        direct: (i) => direct(ITEMS_SQL, [org.orgId, idOf(i), midPage, PAGE + 1]),
      },
      {
        name: `history (${items} items)`,
        path: (i) => `/sessions/${idOf(i)}/items?limit=${items}`,
        direct: (i) => direct(ITEMS_SQL, [org.orgId, idOf(i), 0, items + 1]),
      },
    ];
    const found = (await get(yoke, `/sessions?q=${encodeURIComponent(searched(1))}`)) as { sessions: unknown[] };
    if (found.sessions.length !== 1) {
      throw new Error(`searching "${searched(1)}" found ${found.sessions.length} sessions, not the one it names`);
    }
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

    // SQL per operation (team): committed transactions in the corpus' database; each statement outside one is one.
    const counter = 'xact_commit delta (pg_stat_database; each statement outside a transaction is one)';
    const statements = new Map<string, { yoke: number; floor: number; direct: number }>();
    let idle = NaN;
    const count = setup.commits;
    if (count) {
      // A backend that just flushed its counters reports the next ones when it has been idle for 10 s: wait that out.
      const FLUSH_MS = smoke ? 1500 : 10_500;
      await sleep(FLUSH_MS);
      const perOp = async (op: (i: number) => Promise<unknown>, n: number): Promise<number> => {
        const before = await count();
        for (let i = 0; i < n; i++) await op(i);
        await sleep(FLUSH_MS);
        const after = await count();
        return (after - before - 2) / n; // minus this reader's own two snapshot reads
      };
      const ops = smoke ? 10 : 50;
      idle = await perOp(() => Promise.resolve(), ops);
      for (const j of journeys) {
        statements.set(j.name, {
          yoke: (await perOp((i) => get(yoke, j.path(i)), ops)) - idle,
          floor: (await perOp((i) => get(minimal, j.path(i)), ops)) - idle,
          direct: 1, // one hand-written statement by construction
        });
      }
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
    const n1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
    console.log(
      `\n${mode} mode\n${'journey (ms)'.padEnd(28)} ${'Yoke p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ` +
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
        mode,
        times: t.yoke,
        reqPerOp: 1,
        sqlPerOp: Number.isFinite(st.yoke) ? st.yoke : null,
        baseline: { label: 'min handler', p50: pct(t.floor, 50) },
        target: `${ratio.toFixed(1)}x ≤ ${TARGET_RATIO}x`,
        verdict: smoke ? 'not asserted (smoke)' : pass ? 'PASS' : 'FAIL',
      });
      console.log(
        `${j.name.padEnd(28)} ${f(pct(t.yoke, 50))} ${f(pct(t.yoke, 95))} ${f(pct(t.yoke, 99))} ` +
          `${(1000 / mean).toFixed(0).padStart(6)} ${f(pct(t.floor, 50))} ${f(pct(t.direct, 50))} ` +
          `${(ratio.toFixed(1) + 'x').padStart(7)} ${n1(st.yoke).padStart(11)} ${n1(st.floor).padStart(5)} ` +
          `${n1(st.direct).padStart(5)} ${'1'.padStart(6)}  ` +
          (smoke ? '(smoke: not asserted)' : pass ? 'PASS' : 'FAIL'),
      );
    }
    console.log(
      `\nrps: sequential Yoke requests per second (1 / mean). SQL/op: ` +
        (count
          ? `${counter}, idle background ${idle.toFixed(2)}/op subtracted.`
          : "not counted in embedded mode (PGlite is the server process's).") +
        ' req/op: HTTP requests per journey.',
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
    await setup.close();
  }
  return rows;
}
