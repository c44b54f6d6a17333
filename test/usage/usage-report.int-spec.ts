import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { AppError, type OrgRole, type UsageFigures, type UsageGrouping, UsageQuery, UsageReport } from '@yoke/protocol';
import { CoreModule } from '../../apps/server/src/core/core.module';
import type { Principal } from '../../apps/server/src/core/auth/principal';
import { Transactions } from '../../apps/server/src/core/prisma/transactions';
import { QueueModule } from '../../apps/server/src/core/queue/queue.module';
import { AuditModule } from '../../apps/server/src/modules/audit/audit.module';
import { UsageModule } from '../../apps/server/src/modules/usage/usage.module';
import type { UsageSums } from '../../apps/server/src/modules/usage/usage.repository';
import { UsageService } from '../../apps/server/src/modules/usage/usage.service';
import { factories, migratedDatabase } from '../support/factories';

const GROUPINGS: UsageGrouping[] = ['user', 'model', 'harness', 'agent', 'session', 'day'];
const KINDS = ['calls', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'costMicros'] as const;
const FROM = '2026-11-01T00:00:00.000Z';
const TO = '2026-12-01T00:00:00.000Z';
const MONTH_SECONDS = 30 * 86_400;

/** One metered call as stored, its figures as exact bigints. */
type Call = {
  user_id: string;
  session_id: string;
  model: string;
  harness: string;
  agent: string;
  day: string;
  at: Date;
} & Record<'input_tokens' | 'output_tokens' | 'cache_read_tokens' | 'cache_write_tokens' | 'cost_micros', string>;

/**
 * Usage reports against a real Postgres, through the server's own service: a deterministic month of metered calls
 * in two orgs (thousands of rows, inserted in one statement each), and for every grouping, the report's total equals
 * the sum of its rows, equals a direct SUM over the calls in the range, equals the sum of its days, to the
 * micro-dollar and the token; each group equals the same group summed here from the raw rows.
 */
describe('usage reports tie out (real Postgres)', () => {
  let ctx: INestApplicationContext;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let sql: Client;
  let home: string;
  let usage: UsageService;
  let f: ReturnType<typeof factories>;
  const orgs: { id: string; users: { id: string; role: OrgRole; email: string }[]; sessions: string[] }[] = [];

  const principal = (org: (typeof orgs)[number], role: OrgRole, memberRole?: OrgRole): Principal => {
    const user = org.users.find((u) => u.role === (memberRole ?? role))!;
    return { orgId: org.id, userId: user.id, name: user.email, email: user.email, role, memberRole } as Principal;
  };
  const query = (by: UsageGrouping, from = FROM, to = TO): UsageQuery => UsageQuery.parse({ by, from, to });

  /** Rows of one org in `[from, to)`, as stored (optionally one user's). */
  async function callsOf(orgId: string, from = FROM, to = TO, userId?: string): Promise<Call[]> {
    const { rows } = await sql.query<Call>(
      `SELECT user_id, session_id, model, harness, agent, at,
              to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
              input_tokens::text, output_tokens::text, cache_read_tokens::text, cache_write_tokens::text,
              cost_micros::text
       FROM metered_usage WHERE org_id = $1 AND at >= $2 AND at < $3 AND ($4::uuid IS NULL OR user_id = $4)`,
      [orgId, from, to, userId ?? null],
    );
    return rows;
  }

  /** A direct SUM over the calls in the range, computed by Postgres without GROUPING SETS. */
  async function directSum(orgId: string, from = FROM, to = TO, userId?: string): Promise<UsageFigures> {
    const { rows } = await sql.query<Record<string, string>>(
      `SELECT count(*)::text AS calls, coalesce(sum(input_tokens), 0)::text AS "inputTokens",
              coalesce(sum(output_tokens), 0)::text AS "outputTokens",
              coalesce(sum(cache_read_tokens), 0)::text AS "cacheReadTokens",
              coalesce(sum(cache_write_tokens), 0)::text AS "cacheWriteTokens",
              coalesce(sum(cost_micros), 0)::text AS "costMicros"
       FROM metered_usage WHERE org_id = $1 AND at >= $2 AND at < $3 AND ($4::uuid IS NULL OR user_id = $4)`,
      [orgId, from, to, userId ?? null],
    );
    return Object.fromEntries(KINDS.map((k) => [k, Number(rows[0][k])])) as UsageFigures;
  }

  /** Each group summed here, in bigints, from the raw rows. */
  function groupHere(calls: Call[], by: UsageGrouping): Map<string, Record<(typeof KINDS)[number], bigint>> {
    const field = {
      user: 'user_id',
      model: 'model',
      harness: 'harness',
      agent: 'agent',
      session: 'session_id',
      day: 'day',
    }[by] as keyof Call;
    const out = new Map<string, Record<(typeof KINDS)[number], bigint>>();
    for (const c of calls) {
      const key = String(c[field]);
      const g = out.get(key) ?? {
        calls: 0n,
        inputTokens: 0n,
        outputTokens: 0n,
        cacheReadTokens: 0n,
        cacheWriteTokens: 0n,
        costMicros: 0n,
      };
      g.calls += 1n;
      g.inputTokens += BigInt(c.input_tokens);
      g.outputTokens += BigInt(c.output_tokens);
      g.cacheReadTokens += BigInt(c.cache_read_tokens);
      g.cacheWriteTokens += BigInt(c.cache_write_tokens);
      g.costMicros += BigInt(c.cost_micros);
      out.set(key, g);
    }
    return out;
  }

  const sumRows = (report: UsageReport): Record<(typeof KINDS)[number], bigint> =>
    Object.fromEntries(KINDS.map((k) => [k, report.rows.reduce((s, r) => s + BigInt(r[k]), 0n)])) as Record<
      (typeof KINDS)[number],
      bigint
    >;
  const asBig = (x: UsageFigures) =>
    Object.fromEntries(KINDS.map((k) => [k, BigInt(x[k])])) as Record<(typeof KINDS)[number], bigint>;

  /** Every tie-out a report must satisfy against the rows it covers. */
  async function expectTiesOut(report: UsageReport, orgId: string, userId?: string) {
    expect(UsageReport.parse(report)).toEqual(report);
    const direct = await directSum(orgId, report.from, report.to, userId);
    expect(report.total).toEqual(direct);
    expect(sumRows(report)).toEqual(asBig(report.total));
    expect(report.daily.reduce((s, d) => s + BigInt(d.costMicros), 0n)).toBe(BigInt(report.total.costMicros));
    const here = groupHere(await callsOf(orgId, report.from, report.to, userId), report.by);
    expect(new Map(report.rows.map((r) => [r.key, asBig(r)]))).toEqual(here);
  }

  /** `n` calls of an org spread over November 2026 (plus `extra` SQL rows), deterministic in `salt`. */
  async function insertCalls(org: (typeof orgs)[number], n: number, salt: number) {
    await sql.query(
      `INSERT INTO metered_usage (org_id, session_id, item_seq, user_id, agent, harness, provider, api, host, model,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros,
         price_version, at)
       SELECT $1, ($2::uuid[])[1 + (i * 7) % cardinality($2::uuid[])], i,
              ($3::uuid[])[1 + (i * 11 + $5) % cardinality($3::uuid[])],
              'agent-' || ((i + $5) % 4), (ARRAY['claude-code', 'codex', 'opencode'])[1 + (i * 13) % 3],
              'anthropic', 'messages', 'api.anthropic.com',
              (ARRAY['claude-sonnet-4-5', 'claude-opus-4-1', 'gpt-5', 'claude-haiku-4-5', 'o4-mini'])[1 + (i * 3 + $5) % 5],
              (i::bigint * 7919 + $5) % 40000, (i::bigint * 104729) % 8000, (i::bigint * 1299709) % 120000,
              (i::bigint * 15485863) % 9000,
              i % 700, (i::bigint * 2654435761 + $5) % 900000, '2026-12-01',
              timestamptz '${FROM}' + ((i::bigint * 2593 + $5) % ${MONTH_SECONDS}) * interval '1 second'
                + (i % 1000) * interval '1 millisecond'
       FROM generate_series(1, $4::int) AS i`,
      [org.id, org.sessions, org.users.map((u) => u.id), n, salt],
    );
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'yoke-usage-'));
    db = await migratedDatabase({ YOKE_SECRET_KEY: randomBytes(32).toString('base64url'), YOKE_HOME: home });
    @Module({ imports: [CoreModule.forRoot(db.config, db.url, null), QueueModule, AuditModule, UsageModule] })
    class UsageTestModule {}
    ctx = await NestFactory.createApplicationContext(UsageTestModule, { logger: ['error'] });
    await ctx.init();
    usage = ctx.get(UsageService);
    f = factories(ctx.get(Transactions).client as never);
    sql = new Client({ connectionString: db.url });
    await sql.connect();

    for (const [n, salt] of [
      [4000, 1],
      [1500, 17],
    ] as const) {
      const org = await f.org();
      const users = [];
      for (const role of ['owner', 'admin', 'auditor', 'member', 'member', 'member'] as OrgRole[]) {
        const u = await f.member(org.id, role);
        users.push({ id: u.id, role, email: u.email });
      }
      const sessions = [];
      for (let i = 0; i < 9; i++) sessions.push((await f.session(org.id, users[i % users.length].id)).id);
      const o = { id: org.id, users, sessions };
      orgs.push(o);
      await insertCalls(o, n, salt);
    }
    // The range's edges, in org A: its first millisecond and its last are in; the millisecond before and `to` are out.
    const [a] = orgs;
    await sql.query(
      `INSERT INTO metered_usage (org_id, session_id, item_seq, user_id, agent, harness, provider, api, host, model,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros,
         price_version, at)
       SELECT $1, $2, 100000 + e.n, $3, 'edge', 'codex', 'openai', 'responses', 'api.openai.com', 'gpt-5',
              e.n, e.n, e.n, e.n, 0, e.n * 1000003, '2026-12-01', e.at::timestamptz
       FROM (VALUES (1, '2026-10-31T23:59:59.999Z'), (2, '${FROM}'), (3, '2026-11-30T23:59:59.999Z'), (4, '${TO}'))
         AS e(n, at)`,
      [a.id, a.sessions[0], a.users[0].id],
    );
  });

  afterAll(async () => {
    await sql?.end();
    await ctx?.close();
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it.each(GROUPINGS)('by %s: total = Σ rows = a direct SUM of the calls = Σ daily, for each org', async (by) => {
    for (const org of orgs) {
      const report = await usage.report(principal(org, 'owner'), query(by));
      expect(report.scope).toBe('org');
      expect(report.rows.length).toBeGreaterThan(1);
      await expectTiesOut(report, org.id);
    }
    const [a] = orgs;
    expect((await usage.report(principal(a, 'owner'), query(by))).total.calls).toBe(4000 + 2);
  });

  it('covers [from, to): the first and last millisecond are in, the one before and `to` itself are out', async () => {
    const [a] = orgs;
    const report = await usage.report(principal(a, 'auditor'), query('agent'));
    const edge = report.rows.find((r) => r.key === 'edge')!;
    // Edges 2 and 3: n tokens of each kind and n × 1000003 micro-dollars each.
    expect(edge).toEqual({
      key: 'edge',
      calls: 2,
      inputTokens: 5,
      outputTokens: 5,
      cacheReadTokens: 5,
      cacheWriteTokens: 5,
      costMicros: 5 * 1000003,
    });
    // One millisecond earlier takes in edge 1 (and not 3); one later takes in edge 4 too.
    const earlier = await usage.report(
      principal(a, 'auditor'),
      query('agent', '2026-10-31T23:59:59.999Z', '2026-11-30T23:59:59.999Z'),
    );
    expect(earlier.rows.find((r) => r.key === 'edge')!.costMicros).toBe(3 * 1000003);
    const later = await usage.report(principal(a, 'auditor'), query('agent', FROM, '2026-12-01T00:00:00.001Z'));
    expect(later.rows.find((r) => r.key === 'edge')!.costMicros).toBe(9 * 1000003);
    for (const r of [earlier, later]) await expectTiesOut(r, a.id);
    // The chart has every day of the range, in order, nothing outside it.
    expect(report.daily.map((d) => d.day)).toEqual(
      Array.from({ length: 30 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`),
    );
    expect(later.daily.at(-1)).toEqual({ day: '2026-12-01', costMicros: 4 * 1000003 });
  });

  it('ties out on a range that cuts days in the middle, and on an empty one', async () => {
    const [a] = orgs;
    const partial = await usage.report(
      principal(a, 'admin'),
      query('day', '2026-11-03T13:17:00.250+02:00', '2026-11-19T04:00:00Z'),
    );
    expect(partial.daily[0].day).toBe('2026-11-03');
    expect(partial.daily.at(-1)!.day).toBe('2026-11-19');
    await expectTiesOut(partial, a.id);
    const empty = await usage.report(
      principal(a, 'admin'),
      query('user', '2027-01-01T00:00:00Z', '2027-01-02T00:00:00Z'),
    );
    expect(empty.rows).toEqual([]);
    expect(empty.total).toEqual({
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costMicros: 0,
    });
    expect(empty.daily).toEqual([{ day: '2027-01-01', costMicros: 0 }]);
  });

  it('keeps the daily rollup equal to the calls through inserts and deletes, and refuses edits', async () => {
    const [a] = orgs;
    const rollup = async () =>
      (
        await sql.query<{ calls: string; cost: string }>(
          'SELECT coalesce(sum(calls), 0)::text AS calls, coalesce(sum(cost_micros), 0)::text AS cost FROM usage_daily WHERE org_id = $1',
          [a.id],
        )
      ).rows[0];
    const facts = async () =>
      (
        await sql.query<{ calls: string; cost: string }>(
          'SELECT count(*)::text AS calls, coalesce(sum(cost_micros), 0)::text AS cost FROM metered_usage WHERE org_id = $1',
          [a.id],
        )
      ).rows[0];
    expect(await rollup()).toEqual(await facts());
    // A statement that adds calls across several days and keys, then one that removes some of them.
    await sql.query(
      `INSERT INTO metered_usage (org_id, session_id, item_seq, user_id, agent, harness, provider, api, host, model,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros,
         price_version, at)
       SELECT $1, $2, 900000 + i, $3, 'lead', 'yoke', 'anthropic', 'messages', 'h', 'claude-sonnet-4-5',
         10, 1, 0, 0, 0, 45, 'v', timestamptz '2026-11-10T23:59:59Z' + i * interval '1 second'
       FROM generate_series(0, 9) i`,
      [a.id, a.sessions[0], a.users[0].id],
    );
    expect(await rollup()).toEqual(await facts());
    await sql.query('DELETE FROM metered_usage WHERE org_id = $1 AND item_seq >= 900005', [a.id]);
    expect(await rollup()).toEqual(await facts());
    await expect(sql.query('UPDATE metered_usage SET cost_micros = 0 WHERE org_id = $1', [a.id])).rejects.toThrow(
      /append-only/,
    );
    // A whole-day report still ties out with those calls straddling midnight.
    await expectTiesOut(await usage.report(principal(a, 'admin'), query('session')), a.id);
    await sql.query('DELETE FROM metered_usage WHERE org_id = $1 AND item_seq >= 900000', [a.id]);
    expect(await rollup()).toEqual(await facts());
  });

  it("labels users with their email and sessions with their title; another org's rows never appear", async () => {
    const [a, b] = orgs;
    const byUser = await usage.report(principal(b, 'owner'), query('user'));
    expect(new Set(byUser.rows.map((r) => r.key))).toEqual(new Set(b.users.map((u) => u.id)));
    for (const r of byUser.rows) expect(r.label).toBe(b.users.find((u) => u.id === r.key)!.email);
    const bySession = await usage.report(principal(b, 'owner'), query('session'));
    expect(bySession.rows.map((r) => r.key).every((k) => b.sessions.includes(k))).toBe(true);
    for (const r of bySession.rows) expect(r.label).toMatch(/^session/);
    for (const by of GROUPINGS) {
      const report = await usage.report(principal(b, 'admin'), query(by));
      expect(report.rows.some((r) => [...a.sessions, ...a.users.map((u) => u.id), 'edge'].includes(r.key))).toBe(false);
      expect(report.total).toEqual(await directSum(b.id));
    }
  });

  it('a member sees their own calls only, even through a read-only token; scope says so', async () => {
    const [a] = orgs;
    const member = a.users.find((u) => u.role === 'member')!;
    for (const p of [principal(a, 'member'), principal(a, 'auditor', 'member')]) {
      for (const by of GROUPINGS) {
        const report = await usage.report(p, query(by));
        expect(report.scope).toBe('self');
        await expectTiesOut(report, a.id, member.id);
        expect(report.total.calls).toBeGreaterThan(0);
        if (by === 'user') expect(report.rows.map((r) => r.key)).toEqual([member.id]);
      }
    }
    // An owner's read-only token still reads the org (it acts as an auditor).
    expect((await usage.report(principal(a, 'auditor', 'owner'), query('user'))).scope).toBe('org');
  });

  it('records usage.report_read for an org-wide read; a member reading their own, none', async () => {
    const [, b] = orgs;
    const count = async () =>
      Number(
        (
          await sql.query<{ n: string }>(
            "SELECT count(*) AS n FROM audit_events WHERE org_id = $1 AND action = 'usage.report_read'",
            [b.id],
          )
        ).rows[0].n,
      );
    const before = await count();
    await usage.report(principal(b, 'member'), query('model'));
    expect(await count()).toBe(before);
    await usage.report(principal(b, 'auditor'), query('model'));
    expect(await count()).toBe(before + 1);
    const { rows } = await sql.query<{ event: { details: Record<string, unknown>; target: { kind: string } } }>(
      "SELECT event FROM audit_events WHERE org_id = $1 AND action = 'usage.report_read' ORDER BY seq DESC LIMIT 1",
      [b.id],
    );
    expect(rows[0].event.target.kind).toBe('usage_report');
    expect(rows[0].event.details).toMatchObject({ by: 'model', from: FROM, to: TO });
  });

  it('serves no org-wide report the audit log cannot record (fail closed); a member still reads their own', async () => {
    const [a] = orgs;
    await sql.query(`CREATE OR REPLACE FUNCTION test_refuse_usage_audit() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit appends refused by the test'; END $$`);
    await sql.query(`CREATE TRIGGER test_refuse_usage_audit BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION test_refuse_usage_audit()`);
    try {
      await expect(usage.report(principal(a, 'admin'), query('model'))).rejects.toMatchObject({
        code: 'audit.unavailable',
      });
      expect((await usage.report(principal(a, 'member'), query('model'))).scope).toBe('self');
    } finally {
      await sql.query('DROP TRIGGER IF EXISTS test_refuse_usage_audit ON audit_events');
    }
    expect((await usage.report(principal(a, 'admin'), query('model'))).scope).toBe('org');
  });

  it('refuses an empty or reversed range and one longer than 366 days; defaults to this UTC month so far', async () => {
    const [a] = orgs;
    const p = principal(a, 'owner');
    for (const [from, to] of [
      [FROM, FROM],
      [TO, FROM],
      ['2025-01-01T00:00:00Z', '2026-01-02T00:00:01Z'],
    ]) {
      await expect(usage.report(p, query('day', from, to))).rejects.toMatchObject({
        code: 'request.invalid',
      } satisfies Partial<AppError>);
    }
    // 366 days exactly is allowed (a leap year).
    const leap = await usage.report(p, query('day', '2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z'));
    expect(leap.daily).toHaveLength(366);
    // A `from` after now with no `to` is a reversed range too.
    await expect(usage.report(p, UsageQuery.parse({ from: '2999-01-01T00:00:00Z' }))).rejects.toMatchObject({
      code: 'request.invalid',
    });
    const now = new Date('2026-11-17T10:30:00.000Z');
    const def = await usage.report(p, UsageQuery.parse({}), now);
    expect([def.by, def.from, def.to]).toEqual(['day', FROM, now.toISOString()]);
    expect(def.daily).toHaveLength(17);
    await expectTiesOut(def, a.id);
  });
});

/**
 * The same statement on embedded PGlite (`yoke start`), in a child process (PGlite loads WASM through a dynamic
 * import, which Jest's module runtime refuses): the report ties out there too.
 */
describe('usage reports tie out (embedded PGlite)', () => {
  it.each(GROUPINGS)('by %s: total = Σ rows = Σ days = a direct SUM', async (by) => {
    const { sums, direct } = (await pglite)[by];
    expect(sums.total).toEqual(direct);
    expect(sums.total.calls).toBe(600);
    for (const k of KINDS) expect(sums.rows.reduce((s, r) => s + r[k], 0)).toBe(sums.total[k]);
    expect(sums.days.reduce((s, d) => s + d.costMicros, 0)).toBe(sums.total.costMicros);
    if (by === 'user') {
      expect(sums.rows.map((r) => r.label).sort()).toEqual(['u0@example.test', 'u1@example.test', 'u2@example.test']);
    }
    if (by === 'session') expect(sums.rows.every((r) => r.label?.startsWith('session '))).toBe(true);
  });

  let pglite: Promise<PgliteSums>;
  beforeAll(() => {
    pglite = runPgliteSums();
  });
});

type PgliteSums = Record<UsageGrouping, { sums: UsageSums; direct: UsageFigures }>;

async function runPgliteSums(): Promise<PgliteSums> {
  const root = join(__dirname, '../..');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', join(root, 'test/support/register.js'), join(__dirname, 'support/pglite-usage.ts')],
    { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as PgliteSums;
}
