/**
 * bench/usage: a month's usage report by user over a large table of metered calls, through the whole server (HTTP,
 * auth, the audit event of the read, the one GROUPING SETS statement), against a direct SQL GROUP BY of the same
 * rows measured in the same run (and, as a floor, one GROUP BY over the daily rollup of those rows). Prints figures; never a test. Exit 0 whatever the figures; 1 only when the run itself
 * is wrong (the report does not tie out to the direct sums).
 *
 *   npm run bench:usage -- [--facts 10000000] [--runs 30] [--month 2026-06]
 *
 * The corpus lives in its own database (`yoke_bench_usage` on DATABASE_URL's server, default the local one) and is
 * reused by the next run when it already holds `--facts` rows: 12 months of calls by 50 users over 1,000 sessions,
 * 5 models, 3 harnesses and 4 agents, deterministic. Needs Redis and `npm run build`. Target: the report's p50 ≤ 1.5x
 * the direct GROUP BY's.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { BASE_DATABASE_URL, REDIS_URL } from '../test/support/env';
import { freePort, SERVER_MAIN, spawnNode, tempDir } from '../test/support/processes';

const TARGET_RATIO = 1.5;
const DB = 'yoke_bench_usage';
/** The bench org's owner token (stable, so a reused corpus keeps its org). */
const TOKEN = 'ykt_bench-usage-owner-token-0000000000000000';

const { values: flags } = parseArgs({
  options: {
    facts: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '30' },
    month: { type: 'string', default: '2026-06' },
  },
});

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function ensureDatabase(): Promise<string> {
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${DB}`;
  return url.toString();
}

async function seed(pg: Client, facts: number): Promise<void> {
  const [{ n }] = (await pg.query<{ n: string }>('SELECT count(*) AS n FROM metered_usage')).rows;
  if (Number(n) === facts) {
    console.log(`corpus: ${facts.toLocaleString()} metered calls already there (reused)`);
    return;
  }
  const started = Date.now();
  await pg.query('TRUNCATE metered_usage');
  const [org] = (
    await pg.query<{ id: string; owner: string }>(
      `SELECT o.id, m.user_id AS owner FROM orgs o JOIN memberships m ON m.org_id = o.id AND m.role = 'owner' LIMIT 1`,
    )
  ).rows;
  // 50 people (the owner and 49 more) and 1,000 sessions, made once.
  await pg.query(
    `INSERT INTO users (id, email, name)
     SELECT md5('bench-user-' || i)::uuid, 'user' || i || '@bench.example', 'User ' || i FROM generate_series(1, 49) i
     ON CONFLICT DO NOTHING`,
  );
  await pg.query(
    `INSERT INTO sessions (id, org_id, owner_id, title, agent, harness)
     SELECT md5('bench-session-' || i)::uuid, $1, $2, 'session ' || i, '{"name":"bench"}', 'yoke'
     FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING`,
    [org.id, org.owner],
  );
  const chunk = 1_000_000;
  for (let lo = 1; lo <= facts; lo += chunk) {
    const hi = Math.min(facts, lo + chunk - 1);
    await pg.query(
      `INSERT INTO metered_usage (org_id, session_id, item_seq, turn_id, user_id, agent, harness, provider, api, host,
         model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros,
         price_version, request_id, at)
       SELECT $1, md5('bench-session-' || (1 + i % 1000))::uuid, i, 't' || (i / 10),
         CASE WHEN i % 50 = 0 THEN $2::uuid ELSE md5('bench-user-' || (i % 50))::uuid END,
         (ARRAY['lead','reviewer','writer','helper'])[1 + i % 4], (ARRAY['yoke','claude-code','codex'])[1 + i % 3],
         'anthropic', 'messages', 'api.anthropic.com',
         (ARRAY['claude-sonnet-4-5','claude-opus-4-5','claude-haiku-4-5','gpt-5','gpt-5-mini'])[1 + i % 5],
         100 + (i * 7919) % 5000, 10 + (i * 104729) % 800, (i * 31) % 2000, 0, 0,
         (100 + (i * 7919) % 5000) * 3 + (10 + (i * 104729) % 800) * 15,
         '2026-12-01', NULL,
         timestamptz '2026-01-01 00:00:00+00' + (i::double precision / $3) * interval '365 days'
       FROM generate_series($4::bigint, $5::bigint) i`,
      [org.id, org.owner, facts, lo, hi],
    );
    process.stdout.write(`\rcorpus: ${hi.toLocaleString()} / ${facts.toLocaleString()} metered calls`);
  }
  await pg.query('ANALYZE metered_usage');
  console.log(` (seeded in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

async function main(): Promise<void> {
  const facts = Number(flags.facts);
  const runs = Number(flags.runs);
  const from = new Date(`${flags.month}-01T00:00:00Z`);
  const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
  const url = await ensureDatabase();
  const port = await freePort();
  const server = spawnNode(SERVER_MAIN, [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    YOKE_HOME: tempDir('yoke-bench-usage'),
    LOG_LEVEL: 'info',
    DATABASE_URL: url,
    REDIS_URL,
    REDIS_PREFIX: `bench-usage-${randomUUID().slice(0, 8)}`,
    YOKE_EMBEDDED: '0',
    YOKE_BOOTSTRAP_TOKEN: TOKEN,
  });
  const pg = new Client({ connectionString: url });
  try {
    // A reused corpus may take a migration's backfill at boot (the daily rollup of 10 million calls: a minute or so).
    await server.waitForLine((l) => l.includes('yoke server listening'), 900_000);
    await pg.connect();
    await seed(pg, facts);
    const [{ id: orgId }] = (await pg.query<{ id: string }>('SELECT id FROM orgs LIMIT 1')).rows;
    const query = `?by=user&from=${from.toISOString()}&to=${to.toISOString()}`;
    const report = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/usage${query}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (res.status !== 200) throw new Error(`GET /usage: ${res.status} ${await res.text()}`);
      return (await res.json()) as {
        rows: { key: string; costMicros: number; calls: number }[];
        total: { costMicros: number; calls: number };
      };
    };
    const direct = () =>
      pg.query<{ user_id: string; calls: string; cost: string }>(
        `SELECT user_id, count(*) AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output,
                sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, sum(cost_micros) AS cost
         FROM metered_usage WHERE org_id = $1 AND at >= $2 AND at < $3 GROUP BY user_id`,
        [orgId, from, to],
      );

    // The floor for the same answer: one GROUP BY over the daily rollup of those rows.
    const directRollup = () =>
      pg.query(
        `SELECT user_id, sum(calls) AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output,
                sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, sum(cost_micros) AS cost
         FROM usage_daily WHERE org_id = $1 AND day >= $2::date AND day < $3::date GROUP BY user_id`,
        [orgId, from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)],
      );

    // Correctness first: the report ties out to the direct sums, group by group.
    const r = await report();
    const d = await direct();
    const want = new Map(d.rows.map((x) => [x.user_id, Number(x.cost)]));
    const tiesOut =
      r.rows.length === d.rows.length &&
      r.rows.every((x) => want.get(x.key) === x.costMicros) &&
      r.total.costMicros === d.rows.reduce((s, x) => s + Number(x.cost), 0);
    if (!tiesOut) throw new Error('the report does not tie out to a direct GROUP BY of the same rows');
    console.log(`month ${flags.month}: ${r.total.calls.toLocaleString()} calls, ${r.rows.length} users, ties out`);

    for (let i = 0; i < 3; i++) await Promise.all([report(), direct()]);
    const http: number[] = [];
    const sql: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, one at a time, so both see the same machine.
      let t = process.hrtime.bigint();
      await report();
      http.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await direct();
      sql.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await directRollup();
      floor.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    floor.sort((a, b) => a - b);
    http.sort((a, b) => a - b);
    sql.sort((a, b) => a - b);
    const ratio = pct(http, 50) / pct(sql, 50);
    const row = (name: string, xs: number[]) =>
      `${name.padEnd(34)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 95).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)}`;
    console.log(`\n${'journey (ms)'.padEnd(34)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)}`);
    console.log(row('GET /api/v1/usage?by=user (month)', http));
    console.log(row('direct SQL GROUP BY user_id', sql));
    console.log(row('direct SQL over the daily rollup', floor));
    console.log(
      `\nratio p50: ${ratio.toFixed(2)}x (target ≤ ${TARGET_RATIO}x) ${ratio <= TARGET_RATIO ? 'PASS' : 'FAIL'}` +
        ` · ${facts.toLocaleString()} facts · load ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} · ${os.cpus().length} cores`,
    );
  } finally {
    await pg.end().catch(() => undefined);
    await server.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
