import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import {
  type AuditEventsPage,
  type AuditEventView,
  type BudgetList,
  type BudgetView,
  type EnrolReply,
  type Enrolment,
  type InboxEntry,
  NS_RUNNER,
  PROTOCOL_VERSION,
  type Session,
} from '@yoke/protocol';
import { type ApiProcess, startApiProcess } from '../audit/support/api-process';
import { seedOrg, seedPerson, type SeededPerson } from '../audit/support/e2e-fixtures';
import { expectEventually } from '../support/env';
import { migratedDatabase } from '../support/factories';

const DAY = 86_400_000;

/**
 * Monthly budgets against a real Postgres and the real API (a child process, team mode): two orgs' raw runners
 * report metered calls spread over two months; the monthly rollup equals the sum of the calls exactly; each threshold
 * alerts once per month; a cap reached puts a `budget_hold` in the session's inbox (once per budget and month) with
 * `budget.cap_reached`; the other org's budgets, rollup and log are never touched; bad input changes nothing.
 */
describe('monthly budgets (real Postgres, real API)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let sql: Client;
  let api: ApiProcess;
  let orgA = '';
  let orgB = '';
  let ada: SeededPerson; // admin of A
  let mia: SeededPerson; // member of A
  let max: SeededPerson; // member of A
  let otto: SeededPerson; // auditor of A
  let bea: SeededPerson; // admin of B
  const runners: Record<string, Socket> = {};
  /** Inputs each raw runner received, in order. */
  const received: InboxEntry[] = [];
  const seqs = new Map<string, number>();
  const now = new Date();
  const thisMonth = now.toISOString().slice(0, 7);
  const lastMonthDate = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12));
  const lastMonth = lastMonthDate.toISOString().slice(0, 7);

  async function call<T>(method: string, path: string, token: string | null, body?: unknown) {
    const res = await fetch(`${api.url}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** One metered call of `costMicros`, made at `at`. */
  const metered = (costMicros: number, at: Date) => ({
    type: 'metered_usage',
    provider: 'anthropic',
    api: 'messages',
    host: 'api.anthropic.com',
    model: 'claude-sonnet-4-5',
    inputTokens: 10,
    outputTokens: 10,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros,
    priceVersion: '2026-12-01',
    streamed: false,
    createdAt: at.toISOString(),
  });

  async function report(runner: Socket, sessionId: string, items: Record<string, unknown>[]) {
    let seq = seqs.get(sessionId) ?? 0;
    const batch = items.map((item) => ({ seq: ++seq, turnId: 't1', createdAt: now.toISOString(), ...item }));
    seqs.set(sessionId, seq);
    const ack = (await runner.emitWithAck('session.items', { sessionId, items: batch })) as { ok: boolean };
    expect(ack).toEqual({ ok: true, lastSeq: seq });
  }

  async function session(who: SeededPerson, agent: string): Promise<string> {
    const created = await call<Session>('POST', '/sessions', who.token, {
      agentYaml: `name: ${agent}\nprompt: You help.\nmodel: claude-sonnet-4-5\n`,
      title: `${agent} work`,
    });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function connectRunner(admin: SeededPerson, name: string): Promise<Socket> {
    const enrolment = await call<Enrolment>('POST', '/runners/enrolments', admin.token, { name });
    expect(enrolment.status).toBe(201);
    const enrolled = await call<EnrolReply>('POST', '/runners/enrol', null, { token: enrolment.body.token, name });
    expect(enrolled.status).toBe(201);
    const socket = io(`${api.url}${NS_RUNNER}`, {
      auth: { credential: enrolled.body.credential, protocolVersion: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnection: false,
    });
    socket.on('session.input', (entry: InboxEntry, ack: (r: unknown) => void) => {
      received.push(entry);
      ack({ ok: true, applied: true });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    await socket.emitWithAck('runner.hello', { sessions: [] });
    return socket;
  }

  async function events(action: string, token: string): Promise<AuditEventView[]> {
    const page = await call<AuditEventsPage>('GET', `/audit/events?action=${action}&limit=500`, token);
    expect(page.status).toBe(200);
    return page.body.events;
  }

  /** The rollup of an org as stored, and the same figures summed by Postgres from the calls, as sorted lines. */
  async function rollupAndSum(orgId: string) {
    const { rows: rollup } = await sql.query<{ line: string }>(
      `SELECT to_char(month, 'YYYY-MM') || ' ' || scope || ' ' || target || ' ' || cost_micros AS line
       FROM usage_month_totals WHERE org_id = $1 ORDER BY 1`,
      [orgId],
    );
    const { rows: sums } = await sql.query<{ line: string }>(
      `SELECT to_char(date_trunc('month', at AT TIME ZONE 'UTC'), 'YYYY-MM') || ' ' || scope || ' ' || target || ' '
                || sum(cost_micros) AS line
       FROM metered_usage m
       CROSS JOIN LATERAL (VALUES ('org', ''), ('user', m.user_id::text), ('agent', m.agent)) AS s(scope, target)
       WHERE org_id = $1
       GROUP BY date_trunc('month', at AT TIME ZONE 'UTC'), scope, target ORDER BY 1`,
      [orgId],
    );
    return { rollup: rollup.map((r) => r.line), sums: sums.map((r) => r.line) };
  }

  async function createBudget(token: string, body: Record<string, unknown>): Promise<BudgetView> {
    const r = await call<BudgetView>('POST', '/org/budgets', token, body);
    expect(r.status).toBe(201);
    return r.body;
  }

  beforeAll(async () => {
    db = await migratedDatabase();
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    api = await startApiProcess(db.url);
    const tag = Date.now().toString(36);
    orgA = await seedOrg(sql, `bud-a-${tag}`);
    orgB = await seedOrg(sql, `bud-b-${tag}`);
    ada = await seedPerson(sql, orgA, 'admin', 'Ada');
    mia = await seedPerson(sql, orgA, 'member', 'Mia');
    max = await seedPerson(sql, orgA, 'member', 'Max');
    otto = await seedPerson(sql, orgA, 'auditor', 'Otto');
    bea = await seedPerson(sql, orgB, 'admin', 'Bea');
    runners.a = await connectRunner(ada, 'raw-a');
    runners.b = await connectRunner(bea, 'raw-b');
  }, 120_000);

  afterAll(async () => {
    for (const r of Object.values(runners)) r.close();
    await api?.close();
    await sql?.end();
    await db?.drop();
  });

  it('keeps the monthly rollup equal to the sum of the metered calls, exactly, per org, user and agent', async () => {
    const plan: [SeededPerson, Socket, string][] = [
      [ada, runners.a, 'alpha'],
      [mia, runners.a, 'beta'],
      [mia, runners.a, 'alpha'],
      [bea, runners.b, 'alpha'],
    ];
    for (const [who, runner, agent] of plan) {
      const id = await session(who, agent);
      // Generated calls over two months, in batches of different sizes, with a few unrelated items between.
      for (let b = 0; b < 6; b++) {
        const batch: Record<string, unknown>[] = [];
        for (let i = 0; i < 3 + b * 5; i++) {
          const n = b * 37 + i * 11 + agent.length;
          const at = new Date((n % 2 ? lastMonthDate : now).getTime() - (n % 9) * DAY);
          batch.push(metered((n * 7919) % 30_011, at));
          if (i % 4 === 0) batch.push({ type: 'notice', level: 'info', text: `step ${n}` });
        }
        await report(runner, id, batch);
      }
    }
    for (const orgId of [orgA, orgB]) {
      const { rollup, sums } = await rollupAndSum(orgId);
      expect(rollup.length).toBeGreaterThan(4);
      expect(rollup).toEqual(sums);
    }
    // Both months are there.
    const months = await sql.query<{ m: string }>(
      `SELECT DISTINCT to_char(month, 'YYYY-MM') AS m FROM usage_month_totals WHERE org_id = $1 ORDER BY 1`,
      [orgA],
    );
    expect(months.rows.map((r) => r.m)).toEqual([lastMonth, thisMonth].sort());
  });

  it('alerts each threshold once per month, and holds the session once per budget and month at the cap', async () => {
    // A fresh agent, so its spend starts from nothing in both months.
    const agent = 'gamma';
    const budget = await createBudget(ada.token, {
      scope: 'agent',
      target: agent,
      capMicros: 1_000_000,
      alertAt: [80, 50, 100, 50],
    });
    expect(budget).toMatchObject({ scope: 'agent', target: agent, alertAt: [50, 80, 100], spentMicros: 0 });
    const bBudget = await createBudget(bea.token, { scope: 'org', capMicros: 1, alertAt: [1] });
    const id = await session(mia, agent);
    const crossed = async () =>
      (await events('budget.threshold_crossed', otto.token))
        .filter((e) => e.event.details.budgetId === budget.id)
        .map((e) => `${e.event.details.month} ${e.event.details.threshold}`)
        .sort();

    // Last month: 60% → 50 alerts for last month, and nobody is held for a past month.
    await report(runners.a, id, [metered(600_000, lastMonthDate)]);
    expect(await crossed()).toEqual([`${lastMonth} 50`]);
    // This month: 55% → 50 alerts again (another month); then 79.9999% → nothing new; then 80% → 80.
    await report(runners.a, id, [metered(300_000, now), metered(250_000, now)]);
    await report(runners.a, id, [metered(249_999, now)]);
    await report(runners.a, id, [metered(1, now)]);
    expect(await crossed()).toEqual([`${lastMonth} 50`, `${thisMonth} 50`, `${thisMonth} 80`]);
    expect(received.filter((e) => e.input.kind === 'budget_hold')).toEqual([]);

    // 100%: the threshold alerts, the cap is reached, the session gets its hold (delivered to its runner).
    await report(runners.a, id, [metered(200_000, now)]);
    expect(await crossed()).toEqual([`${lastMonth} 50`, `${thisMonth} 100`, `${thisMonth} 50`, `${thisMonth} 80`]);
    await expectEventually(() => received.some((e) => e.sessionId === id && e.input.kind === 'budget_hold'), 10_000);
    const hold = received.find((e) => e.sessionId === id && e.input.kind === 'budget_hold')!;
    expect(hold.input).toMatchObject({
      kind: 'budget_hold',
      budgetId: budget.id,
      month: thisMonth,
      policy: `budget:agent:${agent}`,
      reason: expect.stringContaining('$1.00 of $1.00'),
    });
    const capped = (await events('budget.cap_reached', otto.token)).filter(
      (e) => e.event.details.budgetId === budget.id,
    );
    expect(capped).toHaveLength(1);
    expect(capped[0].event).toMatchObject({
      sessionId: id,
      target: { kind: 'budget', id: budget.id },
      details: { scope: 'agent', target: agent, month: thisMonth, spentMicros: 1_000_000, capMicros: 1_000_000 },
    });

    // Spending on: no threshold again, no second hold for this session and month.
    await report(runners.a, id, [metered(500_000, now)]);
    await report(runners.a, id, [metered(10, now)]);
    expect(await crossed()).toHaveLength(4);
    expect((await events('budget.cap_reached', otto.token)).length).toBe(1);
    const { rows: inbox } = await sql.query(`SELECT id FROM inbox_entries WHERE session_id = $1 AND kind = $2`, [
      id,
      'budget_hold',
    ]);
    expect(inbox).toHaveLength(1);

    // Another session on the same agent is held too (its own hold), the next time it spends.
    const other = await session(ada, agent);
    await report(runners.a, other, [metered(5, now)]);
    await expectEventually(() => received.some((e) => e.sessionId === other && e.input.kind === 'budget_hold'), 10_000);
    expect(await crossed()).toHaveLength(4);

    // The list shows it: this month's spend, the percent, the thresholds crossed.
    const list = await call<BudgetList>('GET', '/org/budgets', mia.token);
    expect(list.body.budgets.find((b) => b.id === budget.id)).toMatchObject({
      month: thisMonth,
      spentMicros: 1_500_015,
      percent: 150,
      crossed: [50, 80, 100],
    });

    // Org B's budget (a cap of one micro-dollar) saw none of org A's spend.
    const bList = await call<BudgetList>('GET', '/org/budgets', bea.token);
    expect(bList.body.budgets.find((b) => b.id === bBudget.id)).toMatchObject({ crossed: [] });
    const { rows: bAlerts } = await sql.query('SELECT 1 FROM budget_alerts WHERE org_id = $1', [orgB]);
    expect(bAlerts).toEqual([]);
    expect(await events('budget.threshold_crossed', bea.token)).toEqual([]);
    expect(received.filter((e) => e.input.kind === 'budget_hold').map((e) => e.sessionId)).toEqual([id, other]);
  });

  it('shows members the budgets that concern them; auditors see all; only admins and owners manage', async () => {
    const mine = await createBudget(ada.token, { scope: 'user', target: mia.userId, capMicros: 5_000_000 });
    const theirs = await createBudget(ada.token, { scope: 'user', target: max.userId, capMicros: 5_000_000 });
    const seen = async (p: SeededPerson) =>
      (await call<BudgetList>('GET', '/org/budgets', p.token)).body.budgets.map((b) => b.id);
    expect(await seen(mia)).toContain(mine.id);
    expect(await seen(mia)).not.toContain(theirs.id);
    expect(await seen(otto)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect((await call('POST', '/org/budgets', mia.token, { scope: 'org', capMicros: 1 })).status).toBe(403);
    expect((await call('PATCH', `/org/budgets/${mine.id}`, otto.token, { capMicros: 1 })).status).toBe(403);
    expect((await call('DELETE', `/org/budgets/${mine.id}`, mia.token)).status).toBe(403);
    const mineView = (await call<BudgetList>('GET', '/org/budgets', mia.token)).body.budgets.find(
      (b) => b.id === mine.id,
    );
    expect(mineView?.label).toMatch(/^mia-/);

    const updated = await call<BudgetView>('PATCH', `/org/budgets/${mine.id}`, ada.token, { alertAt: [90] });
    expect(updated).toMatchObject({ status: 200, body: { capMicros: 5_000_000, alertAt: [90] } });
    expect((await call('DELETE', `/org/budgets/${theirs.id}`, ada.token)).status).toBe(204);
    expect(await seen(otto)).not.toContain(theirs.id);
    const actions = async (action: string) =>
      (await events(action, otto.token)).filter((e) => [mine.id, theirs.id].includes(e.event.target.id));
    expect(await actions('budget.created')).toHaveLength(2);
    expect((await actions('budget.updated'))[0].event.details).toMatchObject({
      alertAt: '90',
      previousAlertAt: '50,80,100',
    });
    expect(await actions('budget.deleted')).toHaveLength(1);
  });

  it('refuses bad input with a 400 or 404 and changes nothing', async () => {
    const [existing] = (await call<BudgetList>('GET', '/org/budgets', ada.token)).body.budgets;
    const { rows: before } = await sql.query('SELECT * FROM budgets ORDER BY id');
    const auditBefore = await sql.query('SELECT count(*) AS n FROM audit_events');
    for (const body of [
      { scope: 'org', capMicros: 0 },
      { scope: 'org', capMicros: -5 },
      { scope: 'org', capMicros: 1.5 },
      { scope: 'org', capMicros: '100' },
      { scope: 'org' },
      { scope: 'team', capMicros: 100 },
      { scope: 'org', capMicros: 100, target: 'x' },
      { scope: 'org', capMicros: 100, note: 'x' },
      { scope: 'user', capMicros: 100 },
      { scope: 'user', target: 'not-a-uuid', capMicros: 100 },
      { scope: 'agent', target: '', capMicros: 100 },
      { scope: 'org', capMicros: 100, alertAt: [0] },
      { scope: 'org', capMicros: 100, alertAt: [101] },
      { scope: 'org', capMicros: 100, alertAt: [50.5] },
      { scope: 'org', capMicros: 100, alertAt: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
    ]) {
      const r = await call<{ code: string }>('POST', '/org/budgets', ada.token, body);
      expect([JSON.stringify(body), r.status, r.body.code]).toEqual([JSON.stringify(body), 400, 'request.invalid']);
    }
    for (const body of [{}, { capMicros: 0 }, { capMicros: 10, scope: 'org' }, { alertAt: [200] }]) {
      const r = await call<{ code: string }>('PATCH', `/org/budgets/${existing.id}`, ada.token, body);
      expect([r.status, r.body.code]).toEqual([400, 'request.invalid']);
    }
    // A member of another org is no member here; another org's budget and unknown ids are not found.
    const foreign = await call<{ code: string }>('POST', '/org/budgets', ada.token, {
      scope: 'user',
      target: bea.userId,
      capMicros: 100,
    });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'member.not_found']);
    const [bBudget] = (await call<BudgetList>('GET', '/org/budgets', bea.token)).body.budgets;
    for (const [method, path] of [
      ['PATCH', `/org/budgets/${bBudget.id}`],
      ['DELETE', `/org/budgets/${bBudget.id}`],
      ['PATCH', `/org/budgets/${crypto.randomUUID()}`],
      ['DELETE', '/org/budgets/not-a-uuid'],
    ]) {
      const r = await call<{ code: string }>(
        method,
        path,
        ada.token,
        method === 'PATCH' ? { capMicros: 7 } : undefined,
      );
      expect([method, path, r.status, r.body.code]).toEqual([method, path, 404, 'budget.not_found']);
    }
    // One budget per scope and target.
    const dup = await call<{ code: string }>('POST', '/org/budgets', ada.token, {
      scope: existing.scope,
      ...(existing.target ? { target: existing.target } : {}),
      capMicros: 100,
    });
    expect([dup.status, dup.body.code]).toEqual([409, 'budget.exists']);

    expect((await sql.query('SELECT * FROM budgets ORDER BY id')).rows).toEqual(before);
    expect((await sql.query('SELECT count(*) AS n FROM audit_events')).rows).toEqual(auditBefore.rows);
  });
});
