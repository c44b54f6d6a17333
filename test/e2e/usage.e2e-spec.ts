import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Browser, Page } from 'playwright-core';
import { formatMicrosUsd, type Me, type RedeemLinkReply, type ShareLink, UsageReport } from '@yoke/protocol';
import { seedOrg, seedPerson, type SeededPerson } from '../audit/support/e2e-fixtures';
import { launchBrowser } from '../support/browser';
import { createTestDatabase, expectEventually } from '../support/env';
import { runCli } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? '/tmp/yoke-e2e-artifacts';
const FROM = '2026-10-01T00:00:00.000Z';
const TO = '2026-11-01T00:00:00.000Z';
/** October 2026: calls on the days whose number is not a multiple of 3 (21 of its 31 days). */
const DAYS_WITH_CALLS = Array.from({ length: 31 }, (_, i) => i + 1).filter((d) => d % 3 !== 0);

/**
 * Usage reports end to end on a team-mode stack: metered calls written straight into its database (as the egress
 * proxy's reports would be), read through the API, `yoke usage` (table, --json, --csv) and the Usage page in a real
 * browser; refusals (guest, anonymous) and bad queries; and the same route on an embedded (PGlite) stack.
 */
describe('usage reports', () => {
  let stack: Stack;
  let pg: Client;
  let dropDb: () => Promise<void>;
  let me: Me;
  let mia: SeededPerson;
  let sessions: string[];
  let browser: Browser;

  /** A direct SUM over the calls of `orgId` in October (one user's, when given). */
  async function sqlTotal(orgId: string, userId?: string): Promise<{ calls: number; costMicros: number }> {
    const { rows } = await pg.query<{ calls: string; cost: string }>(
      `SELECT count(*)::text AS calls, coalesce(sum(cost_micros), 0)::text AS cost FROM metered_usage
       WHERE org_id = $1 AND at >= $2 AND at < $3 AND ($4::uuid IS NULL OR user_id = $4)`,
      [orgId, FROM, TO, userId ?? null],
    );
    return { calls: Number(rows[0].calls), costMicros: Number(rows[0].cost) };
  }

  async function insertCalls(orgId: string, sessionIds: string[], userIds: string[], salt: number) {
    await pg.query(
      `INSERT INTO metered_usage (org_id, session_id, item_seq, user_id, agent, harness, provider, api, host, model,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros,
         price_version, at)
       SELECT $1, ($2::uuid[])[1 + i % cardinality($2::uuid[])], i, ($3::uuid[])[1 + (i * 7) % cardinality($3::uuid[])],
              'helper', (ARRAY['claude-code', 'codex'])[1 + i % 2], 'anthropic', 'messages', 'api.anthropic.com',
              (ARRAY['claude-sonnet-4-5', 'gpt-5', 'claude-haiku-4-5'])[1 + (i * 5 + $5) % 3],
              (i::bigint * 7919) % 30000, (i::bigint * 104729) % 4000, (i::bigint * 1299709) % 90000, i % 500, 0,
              (i::bigint * 2654435761 + $5) % 700000 + 1, '2026-12-01',
              timestamptz '${FROM}' + (($4::int[])[1 + i % cardinality($4::int[])] - 1) * interval '1 day'
                + ((i * 7717) % 86400) * interval '1 second'
       FROM generate_series(1, 400) AS i`,
      [orgId, sessionIds, userIds, DAYS_WITH_CALLS, salt],
    );
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const db = await createTestDatabase();
    dropDb = db.drop;
    stack = await startStack('team', { DATABASE_URL: db.url });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    me = (await stack.api<Me>('GET', '/me')).body;
    mia = await seedPerson(pg, me.orgId, 'member', 'Mia');
    sessions = [randomUUID(), randomUUID()];
    for (const [i, id] of sessions.entries()) {
      await pg.query(
        `INSERT INTO sessions (id, org_id, owner_id, title, agent, harness) VALUES ($1, $2, $3, $4, '{}', 'claude-code')`,
        [id, me.orgId, i === 0 ? me.userId : mia.userId, i === 0 ? 'Refactor the parser' : "Mia's fixes"],
      );
    }
    await insertCalls(me.orgId, sessions, [me.userId, mia.userId], 3);
    // Another org with calls of its own in the same month: none of them may show in this org's reports.
    const other = await seedOrg(pg, `other-${randomUUID().slice(0, 8)}`);
    const olga = await seedPerson(pg, other, 'admin', 'Olga');
    const otherSession = randomUUID();
    await pg.query(
      `INSERT INTO sessions (id, org_id, owner_id, title, agent, harness) VALUES ($1, $2, $3, 'elsewhere', '{}', 'codex')`,
      [otherSession, other, olga.userId],
    );
    await insertCalls(other, [otherSession], [olga.userId], 11);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await pg?.end();
    await stack?.stop();
    await dropDb?.();
  });

  it('the API report ties out to the calls, per org and per member', async () => {
    const org = await stack.api<UsageReport>('GET', `/usage?by=user&from=${FROM}&to=${TO}`);
    expect(org.status).toBe(200);
    const report = UsageReport.parse(org.body);
    expect(report.scope).toBe('org');
    expect({ calls: report.total.calls, costMicros: report.total.costMicros }).toEqual(await sqlTotal(me.orgId));
    expect(report.rows.map((r) => r.key).sort()).toEqual([me.userId, mia.userId].sort());
    expect(report.rows.reduce((s, r) => s + r.costMicros, 0)).toBe(report.total.costMicros);
    expect(report.daily).toHaveLength(31);
    expect(report.daily.filter((d) => d.costMicros > 0).map((d) => Number(d.day.slice(8)))).toEqual(DAYS_WITH_CALLS);

    const own = UsageReport.parse(
      (await stack.api('GET', `/usage?by=session&from=${FROM}&to=${TO}`, undefined, mia.token)).body,
    );
    expect(own.scope).toBe('self');
    expect({ calls: own.total.calls, costMicros: own.total.costMicros }).toEqual(await sqlTotal(me.orgId, mia.userId));
  });

  it('refuses bad queries (400 request.invalid), anonymous callers (401) and share-link guests (403)', async () => {
    for (const q of [
      'by=week',
      'from=yesterday',
      `from=${TO}&to=${FROM}`,
      `from=${FROM}&to=${FROM}`,
      'from=2025-01-01T00:00:00Z&to=2026-06-01T00:00:00Z',
      'by=user&limit=10',
      'by=user&by=model',
    ]) {
      const r = await stack.api<{ code: string }>('GET', `/usage?${q}`);
      expect([q, r.status, r.body.code]).toEqual([q, 400, 'request.invalid']);
    }
    const anonymous = await stack.api<{ code: string }>('GET', '/usage', undefined, null);
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'auth.unauthenticated']);

    const link = await stack.api<ShareLink>('POST', `/sessions/${sessions[0]}/shares/links`, { role: 'viewer' });
    expect(link.status).toBe(201);
    const redeemed = await stack.api<RedeemLinkReply>(
      'POST',
      '/share-links/redeem-guest',
      { token: link.body.token, guestName: 'Gail' },
      null,
    );
    expect(redeemed.status).toBe(200);
    const guest = await stack.api<{ code: string }>('GET', '/usage', undefined, redeemed.body.credential!);
    expect([guest.status, guest.body.code]).toEqual([403, 'auth.forbidden']);
  });

  it('`yoke usage --json` prints the report as the API sends it; --csv a header and one line per group', async () => {
    const args = ['usage', '--by', 'model', '--from', FROM, '--to', TO];
    const json = await runCli([...args, '--json'], stack.cliEnv, 60_000);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const report = UsageReport.parse(JSON.parse(json.stdout));
    const api = (await stack.api<UsageReport>('GET', `/usage?by=model&from=${FROM}&to=${TO}`)).body;
    expect(report).toEqual(api);
    expect(report.rows.map((r) => r.key).sort()).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-5', 'gpt-5']);

    const csv = await runCli([...args, '--csv'], stack.cliEnv, 60_000);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'key,label,calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_micros,cost_usd',
    );
    expect(lines).toHaveLength(1 + report.rows.length);
    const cells = lines.slice(1).map((l) => l.split(','));
    expect(cells.reduce((s, c) => s + Number(c[7]), 0)).toBe(report.total.costMicros);
    expect(cells.reduce((s, c) => s + Number(c[2]), 0)).toBe(report.total.calls);
    for (const c of cells) expect(`$${c[8]}`).toBe(formatMicrosUsd(Number(c[7])).replace(/,/g, ''));

    const table = await runCli(args, stack.cliEnv, 60_000);
    expect(table.code).toBe(0);
    const totalLine = table.stdout.trimEnd().split('\n').at(-1)!;
    expect(totalLine).toMatch(/^TOTAL\s/);
    expect(totalLine.endsWith(formatMicrosUsd(report.total.costMicros))).toBe(true);

    // A member's CLI gets their own calls only.
    const own = await runCli([...args, '--json'], { ...stack.cliEnv, YOKE_TOKEN: mia.token }, 60_000);
    const mine = UsageReport.parse(JSON.parse(own.stdout));
    expect([mine.scope, mine.total.costMicros]).toEqual(['self', (await sqlTotal(me.orgId, mia.userId)).costMicros]);

    // Refusals: a grouping the CLI does not know (before any request), a range the server refuses.
    const badBy = await runCli(['usage', '--by', 'week'], stack.cliEnv, 60_000);
    expect([badBy.code, badBy.stderr]).toEqual([2, expect.stringContaining('--by is one of')]);
    const reversed = await runCli(['usage', '--from', TO, '--to', FROM], stack.cliEnv, 60_000);
    expect([reversed.code, reversed.stderr]).toEqual([2, expect.stringContaining('request.invalid')]);
  });

  async function pageAt(width: number, colorScheme: 'light' | 'dark'): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width, height: width > 600 ? 900 : 844 }, colorScheme });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(stack.token)});` });
    return ctx.newPage();
  }

  it('the Usage page charts the cost per day (recharts) and shows the breakdown with its total', async () => {
    const api = (await stack.api<UsageReport>('GET', `/usage?by=model&from=${FROM}&to=${TO}`)).body;
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1440, 390]) {
        const page = await pageAt(width, colorScheme);
        await page.goto(`${stack.url}/`);
        await page.getByTestId('nav-usage').click();
        await page.waitForURL(/\/usage\/$/);
        await page.goto(`${stack.url}/usage/?by=model&month=2026-10`);
        await page.locator('[data-testid="usage-page"][data-state="ok"]').waitFor();
        const chart = page.getByTestId('usage-chart');
        expect(await chart.getAttribute('data-days')).toBe('31');
        // One bar per day with calls, drawn by recharts in its svg.
        await expectEventually(async () => (await chart.locator('svg.recharts-surface').count()) === 1);
        await expectEventually(
          async () => (await chart.locator('.recharts-bar-rectangle path').count()) === DAYS_WITH_CALLS.length,
        );
        // The table: a row per model, and the total the API reports, to the micro-dollar.
        expect(await page.getByTestId('usage-row').count()).toBe(api.rows.length);
        const total = page.getByTestId('usage-total');
        expect(await total.getByTestId('usage-cost').textContent()).toBe(formatMicrosUsd(api.total.costMicros));
        expect(await page.getByTestId('usage-chart-total').textContent()).toBe(formatMicrosUsd(api.total.costMicros));
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(ARTIFACTS, `usage-${width}-${colorScheme}.png`), fullPage: true });
        await page.context().close();
      }
    }

    // The grouping selector: by user, labelled with emails.
    const page = await pageAt(1440, 'light');
    await page.goto(`${stack.url}/usage/?month=2026-10`);
    await page.locator('[data-testid="usage-page"][data-state="ok"]').waitFor();
    await page.getByTestId('usage-by').selectOption('session');
    await page.waitForURL(/by=session/);
    await expectEventually(async () => (await page.getByTestId('usage-table').textContent())?.includes("Mia's fixes"));
    expect(await page.getByTestId('usage-row').count()).toBe(2);
    await page.context().close();
  });
});

describe('usage reports (embedded mode)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('embedded');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('`yoke usage --json` answers from PGlite: an empty month ties out at zero', async () => {
    const r = await runCli(['usage', '--json', '--by', 'agent', '--from', FROM, '--to', TO], stack.cliEnv, 60_000);
    expect(r.code).toBe(0);
    const report = UsageReport.parse(JSON.parse(r.stdout));
    expect(report.rows).toEqual([]);
    expect(report.total.costMicros).toBe(0);
    expect(report.daily).toHaveLength(31);
  });
});
