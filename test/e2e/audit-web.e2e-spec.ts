import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Approval, Session } from '@yoke/protocol';
import { launchBrowser, attributesOf, descendantTextsOf } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, type Member, startCollabStack } from './collab-support';

/** Screenshots the run leaves behind (desktop and phone width, light and dark); never committed. */
const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? '/tmp/yoke-e2e-artifacts';
const POLICIES = '- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n';

/**
 * The audit page in a real browser (Debian chromium) against a real team-mode server, worker (exports), runner and
 * harness: the owner reads events made through the API, live; filters; follows a session's governance; exports;
 * a member is refused.
 */
describe('web UI: audit log', () => {
  let c: CollabStack;
  let browser: Browser;
  let member: Member;
  let admin: Page;
  let governedSessionId = '';

  async function pageAs(
    token: string,
    opts: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {},
  ): Promise<Page> {
    const ctx = await browser.newContext({
      viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
      colorScheme: opts.colorScheme ?? 'light',
      acceptDownloads: true,
    });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(token)});` });
    return ctx.newPage();
  }

  const shownActions = (page: Page) =>
    attributesOf(page.getByTestId('audit-event'), 'data-action').then((a) => a.map((v) => v ?? ''));
  const shownSeqs = (page: Page) =>
    attributesOf(page.getByTestId('audit-event'), 'data-seq').then((a) => a.map(Number));

  async function countOf(action: string): Promise<number> {
    const page = await c.stack.api<{ events: unknown[] }>('GET', `/audit/events?action=${action}&limit=500`);
    return page.body.events.length;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    c = await startCollabStack();
    await c.stack.startWorker();
    member = await c.addMember('Mia');
    browser = await launchBrowser();
    admin = await pageAs(c.stack.token);
  });

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  });

  it('shows the events of actions made through the API, then new ones live, each once, in seq order', async () => {
    // Made before the page opens: an API token created and revoked, and a runner enrolment token.
    const created = await c.stack.api<{ id: string }>('POST', '/tokens', { name: 'audit-e2e' });
    expect(created.status).toBe(201);
    expect((await c.stack.api('DELETE', `/tokens/${created.body.id}`)).status).toBe(204);
    expect((await c.stack.api('POST', '/runners/enrolments', { name: 'before-open' })).status).toBe(201);

    await admin.goto(`${c.stack.url}/`);
    await admin.getByTestId('nav-audit').click();
    await admin.waitForURL(/\/audit\/$/);
    await admin.locator('[data-testid="audit-live"][data-state="watching"]').waitFor();
    await admin.locator('[data-testid="audit-event"][data-action="runner.enrolment_created"]').first().waitFor();
    // The token's own two events (the API says which seqs) are on the page, created before revoked.
    const ofToken = async (action: string) => {
      const listed = await c.stack.api<{ events: { event: { seq: number; target: { id: string } } }[] }>(
        'GET',
        `/audit/events?action=${action}&limit=500`,
      );
      return listed.body.events.filter((v) => v.event.target.id === created.body.id).map((v) => v.event.seq);
    };
    const [createdSeq] = await ofToken('api_token.created');
    const [revokedSeq] = await ofToken('api_token.revoked');
    expect(createdSeq).toBeLessThan(revokedSeq);
    for (const [seq, action] of [
      [createdSeq, 'api_token.created'],
      [revokedSeq, 'api_token.revoked'],
    ] as const) {
      const row = admin.locator(`[data-testid="audit-event"][data-seq="${seq}"]`);
      await row.waitFor();
      expect(await row.getAttribute('data-action')).toBe(action);
    }

    // Integrity: the latest signed checkpoint and how far it covers.
    await expectEventually(async () =>
      /Signed checkpoint at seq \d+/.test((await admin.getByTestId('audit-checkpoint').textContent()) ?? ''),
    );
    expect(await admin.getByTestId('audit-verified').textContent()).toMatch(/\d+ events, verified up to seq \d+/);
    expect(await admin.getByTestId('audit-verification').textContent()).toContain('yoke audit verify');

    // A new event appears without a reload, once.
    const enrolments = admin.locator('[data-testid="audit-event"][data-action="runner.enrolment_created"]');
    const before = await enrolments.count();
    expect(before).toBe(await countOf('runner.enrolment_created'));
    expect((await c.stack.api('POST', '/runners/enrolments', { name: 'while-open' })).status).toBe(201);
    await expectEventually(async () => (await enrolments.count()) === before + 1);
    // Each seq once, ascending, and no holes: everything the API lists in the range shown is on the page.
    await expectEventually(
      async () => {
        const seqs = await shownSeqs(admin);
        const listed = await c.stack.api<{ events: { event: { seq: number } }[] }>('GET', '/audit/events?limit=500');
        const expected = listed.body.events.map((v) => v.event.seq).filter((s) => s >= seqs[0] && s <= seqs.at(-1)!);
        expect(seqs).toEqual(expected);
        return true;
      },
      10_000,
      500,
    );

    // The full record of one event, as text.
    const row = admin.locator('[data-testid="audit-event"][data-action="runner.enrolment_created"]').first();
    await row.getByTestId('audit-event-toggle').click();
    const details = await row.getByTestId('audit-event-details').textContent();
    expect(details).toContain('Request id');
    expect(details).toContain('User agent');
  });

  it('filters by action: the list narrows to that action, and stays live for it', async () => {
    const all = await admin.getByTestId('audit-event').count();
    const expected = await countOf('runner.enrolment_created');
    expect(all).toBeGreaterThan(expected);
    await admin.getByTestId('audit-filter-action').fill('runner.enrolment_created');
    await admin.getByTestId('audit-filter-action').press('Enter');
    await admin.waitForURL(/action=runner\.enrolment_created/);
    await expectEventually(async () => {
      const actions = await shownActions(admin);
      return actions.length === expected && actions.every((a) => a === 'runner.enrolment_created');
    });

    expect((await c.stack.api('POST', '/runners/enrolments', { name: 'filtered-live' })).status).toBe(201);
    await expectEventually(async () => (await admin.getByTestId('audit-event').count()) === expected + 1);
    expect(new Set(await shownActions(admin))).toEqual(new Set(['runner.enrolment_created']));

    await admin.getByTestId('audit-filter-clear').click();
    await admin.waitForURL(/\/audit\/$/);
    await expectEventually(async () => (await admin.getByTestId('audit-event').count()) > expected + 1);
  });

  it("shows a session tree's governance: the ask, who approved it and after how long, the tool call", async () => {
    c.model.script([
      {
        match: 'SHELL',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo audited' } }] }, { text: 'Shell done.' }],
      },
    ]);
    const session = (
      await c.stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Governed <img src=x onerror=alert(1)> session',
        policiesYaml: POLICIES,
        prompt: 'SHELL please',
      })
    ).body;
    governedSessionId = session.id;
    const approval = await expectEventually(
      async () =>
        (await c.stack.api<Approval[]>('GET', `/sessions/${session.id}/approvals`)).body.find(
          (a) => a.status === 'pending',
        ),
      60_000,
    );
    await admin.goto(`${c.stack.url}/audit/?session=${session.id}`);
    await admin.getByTestId('audit-governance').waitFor();
    await admin.locator('[data-testid="audit-governance-event"][data-action="approval.requested"]').waitFor();

    // The owner decides: the decision arrives live, with who and how long it waited.
    const decided = await c.stack.api('POST', `/sessions/${session.id}/approvals/${approval.approvalId}`, {
      decision: 'approve',
    });
    expect(decided.status).toBeLessThan(300);
    const decision = admin.locator('[data-testid="audit-governance-event"][data-action="approval.decided"]');
    await decision.waitFor();
    expect(await decision.textContent()).toMatch(/Approved.*by .*after waiting \d+ s/);
    await admin.locator('[data-testid="audit-governance-event"][data-action="tool.call"]').waitFor({ timeout: 60_000 });
    const actions = await attributesOf(admin.getByTestId('audit-governance-event'), 'data-action');
    expect(actions).not.toContain('audit.read');
    expect(actions.indexOf('approval.requested')).toBeLessThan(actions.indexOf('approval.decided'));
    expect(await admin.getByTestId('audit-governance-summary').textContent()).toMatch(/1 session · .*spend \$/);
    // The timeline below shows that session only.
    const timeline = await descendantTextsOf(admin.getByTestId('audit-event'), '[data-testid="audit-session-link"]');
    expect(timeline.every((t) => t.includes(session.id.slice(0, 8)))).toBe(true);
    // Text from the session (its title, in event targets too) renders as text, never as HTML.
    expect(await admin.locator('#audit-gov-title').textContent()).toContain('<img src=x onerror=alert(1)>');
    expect(await admin.locator('[data-testid="audit-page"] img').count()).toBe(0);
    await admin.getByTestId('audit-governance').screenshot({ path: join(ARTIFACTS, 'audit-governance-1440.png') });
    await admin.getByTestId('audit-governance-close').click();
    await admin.getByTestId('audit-governance').waitFor({ state: 'detached' });
  });

  it('exports as JSON Lines with progress, and the download is a gzip file', async () => {
    await admin.goto(`${c.stack.url}/audit/`);
    await admin.getByTestId('audit-event').first().waitFor();
    await admin.getByTestId('audit-export-open').click();
    const dialog = admin.getByTestId('audit-export');
    await dialog.waitFor();
    await admin.getByTestId('audit-export-format').selectOption('jsonl');
    await admin.getByTestId('audit-export-start').click();
    await admin.locator('[data-testid="audit-export-job"][data-status="done"]').waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      admin.getByTestId('audit-export-download').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.tar\.gz$/);
    const path = join(ARTIFACTS, 'audit-export.tar.gz');
    await download.saveAs(path);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(100);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);

    // Esc closes the dialog; the export and its download are themselves in the log.
    await admin.keyboard.press('Escape');
    await expectEventually(async () => !(await dialog.isVisible()));
    await admin.locator('[data-testid="audit-event"][data-action="audit.downloaded"]').waitFor();
    expect(await admin.locator('[data-testid="audit-event"][data-action="audit.exported"]').count()).toBe(1);
  });

  it('refuses a member clearly, and shows them no Audit link', async () => {
    const page = await pageAs(member.token);
    await page.goto(`${c.stack.url}/audit/`);
    const refusal = page.getByTestId('audit-forbidden');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('The audit log is for owners, admins and auditors');
    expect(await page.getByTestId('audit-event').count()).toBe(0);
    const me = page.waitForResponse((r) => r.url().endsWith('/api/v1/me'));
    await page.goto(`${c.stack.url}/`);
    expect((await me).status()).toBe(200);
    await page.getByRole('link', { name: 'Admin' }).waitFor();
    expect(await page.getByTestId('nav-audit').count()).toBe(0);
    await page.context().close();
  });

  it('lays out at 1440 and 390 px, light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1440, 390]) {
        const page = await pageAs(c.stack.token, { width, height: width > 600 ? 900 : 844, colorScheme });
        await page.goto(`${c.stack.url}/audit/`);
        await page.getByTestId('audit-event').first().waitFor();
        if (width < 600) await page.screenshot({ path: join(ARTIFACTS, `audit-${width}-${colorScheme}-top.png`) });
        await page.getByTestId('audit-event-toggle').last().click();
        // Nothing sticks out sideways at phone width.
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(ARTIFACTS, `audit-${width}-${colorScheme}.png`), fullPage: width > 600 });
        if (width < 600 && colorScheme === 'light') {
          await page.getByTestId('audit-export-open').click();
          await page.screenshot({ path: join(ARTIFACTS, `audit-export-${width}.png`) });
          await page.keyboard.press('Escape');
          await page.goto(`${c.stack.url}/audit/?session=${governedSessionId}`);
          await page.locator('[data-testid="audit-governance-event"][data-action="approval.decided"]').waitFor();
          await page
            .getByTestId('audit-governance')
            .screenshot({ path: join(ARTIFACTS, `audit-governance-${width}.png`) });
        }
        await page.context().close();
      }
    }
  });
});
