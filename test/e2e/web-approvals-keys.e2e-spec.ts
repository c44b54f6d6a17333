import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Approval, Item, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/** Screenshots the run leaves behind. */
const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? '/tmp/yoke-e2e-artifacts';
const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const POLICIES = '- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n';

/**
 * Records the system notifications the page shows (by the page's own Notification or through its service worker)
 * instead of showing them, and lets the test hide the tab: headless Chromium keeps every tab visible, even one behind
 * another, so `window.__setHidden` stands in for switching tabs (what the page reads, and the event it hears).
 */
const NOTIFICATION_RECORDER = `
  window.__notes = [];
  const record = (title, options) => window.__notes.push({ title, body: (options && options.body) || '' });
  const Real = window.Notification;
  function Recorded(title, options) { record(title, options); this.close = () => undefined; }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = () => Real.requestPermission();
  window.Notification = Recorded;
  if (window.ServiceWorkerRegistration) {
    ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
      record(title, options);
      return Promise.resolve();
    };
  }
  let hidden = false;
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  window.__setHidden = (h) => { hidden = h; document.dispatchEvent(new Event('visibilitychange')); };
`;

type Note = { title: string; body: string };

/** The nav link's name with one approval waiting. */
const PENDING_ONE = /^Approvals\s*,\s*1\s*pending$/;

/**
 * Approvals decided by keyboard, in a real browser (Debian chromium) against a real server, runner and harness
 * (embedded mode): the inbox's j / k / a / s / d / Enter, a session page's a / s / d for its oldest waiting approval,
 * the waiting time on the card; and the system notifications a background tab shows.
 */
describe('web UI: approvals by keyboard, and notifications in the background', () => {
  let model: FakeModel;
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let inbox: Page;
  /** The second session of the first test, still waiting for the second. */
  let two: Session;

  async function sessionWaiting(title: string, prompt: string): Promise<Session> {
    const s = (
      await stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title,
        prompt,
        policiesYaml: POLICIES,
      })
    ).body;
    await expectEventually(
      async () => (await stack.api<Session>('GET', `/sessions/${s.id}`)).body.status === 'waiting_approval',
      60_000,
    );
    return s;
  }

  async function approvalsOf(sessionId: string): Promise<Approval[]> {
    return (await stack.api<Approval[]>('GET', `/sessions/${sessionId}/approvals`)).body;
  }

  async function pendingCount(): Promise<number> {
    return (await stack.api<Approval[]>('GET', '/approvals')).body.length;
  }

  async function items(sessionId: string): Promise<Item[]> {
    return (await stack.api<{ items: Item[] }>('GET', `/sessions/${sessionId}/items`)).body.items;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    model = await startFakeModel();
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    model.script([
      {
        match: 'KEYONE',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo key-one' } }] }, { text: 'Key one done.' }],
      },
      {
        match: 'KEYTWO',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo key-two' } }] }, { text: 'Key two stopped.' }],
      },
      {
        match: 'NOTIFY',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo notify' } }] }, { text: 'Notify done.' }],
      },
      {
        match: 'BADGE',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo badge' } }] }, { text: 'Badge done.' }],
      },
      {
        match: 'QUIET',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo quiet' } }] }, { text: 'Quiet done.' }],
      },
    ]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    inbox = await context.newPage();
    // The link `yoke start` prints: it sets the local user's cookie for the whole context.
    await inbox.goto(`${stack.url}/?token=${stack.token}`);
    await inbox
      .getByTestId('session-row')
      .first()
      .waitFor({ state: 'attached' })
      .catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await model?.close();
  });

  it('in the inbox, j selects an approval and a approves it; the run goes on and the tab count goes down live', async () => {
    const one = await sessionWaiting('Keys one', 'KEYONE go');
    two = await sessionWaiting('Keys two', 'KEYTWO go');
    await inbox.goto(`${stack.url}/approvals/`);
    await expectEventually(async () => (await inbox.title()) === 'Approvals (2) · Yoke');
    const entries = inbox.getByTestId('inbox-approval');
    await entries.nth(1).waitFor();
    await inbox.getByTestId('inbox-keys-hint').waitFor();
    // No approval is selected until asked, and no button shows a key yet.
    expect(await inbox.locator('[data-testid="inbox-approval"][aria-current="true"]').count()).toBe(0);
    expect(await inbox.locator('[data-testid="inbox-approval"] button[data-key]').count()).toBe(0);

    const sessions = await entries.getByTestId('inbox-session').allTextContents();
    const target = sessions.indexOf('Keys one');
    expect(target).toBeGreaterThanOrEqual(0);
    for (let i = 0; i <= target; i++) await inbox.keyboard.press('j');
    const selected = inbox.locator('[data-testid="inbox-approval"][aria-current="true"]');
    expect(await selected.getByTestId('inbox-session').textContent()).toBe('Keys one');
    // Focus follows the selection (screen readers read it), and its buttons show their keys.
    expect(await inbox.evaluate<string | null>("document.activeElement?.getAttribute('data-testid')")).toBe(
      'inbox-approval',
    );
    expect(await selected.getByTestId('inbox-approve').getAttribute('aria-keyshortcuts')).toBe('a');
    expect(await selected.getByTestId('inbox-deny').getAttribute('aria-keyshortcuts')).toBe('d');
    expect(await selected.getByTestId('inbox-approve').textContent()).toBe('Approve');
    await inbox.screenshot({ path: join(ARTIFACTS, 'approvals-keys.png') });
    // k then j: back and forth, ending where it was.
    await inbox.keyboard.press('k');
    await inbox.keyboard.press('j');
    if (target === 0) await inbox.keyboard.press('k');
    expect(await selected.getByTestId('inbox-session').textContent()).toBe('Keys one');

    await inbox.keyboard.press('a');
    await inbox.getByTestId('toasts-polite').getByText('Approved. Keys one').waitFor();
    await expectEventually(async () => (await inbox.title()) === 'Approvals (1) · Yoke');
    expect(await entries.count()).toBe(1);
    expect(await entries.getByTestId('inbox-session').textContent()).toBe('Keys two');
    // The cursor moved to the approval that took its place.
    expect(await selected.getByTestId('inbox-session').textContent()).toBe('Keys two');
    expect((await approvalsOf(one.id))[0]).toMatchObject({ status: 'approved' });
    expect((await approvalsOf(two.id))[0]).toMatchObject({ status: 'pending' });

    // The run went on: the fake model's answer after the shell call, shown in the session.
    const view = await context.newPage();
    await view.goto(`${stack.url}/session/?id=${one.id}`);
    await view.getByText('Key one done.').waitFor({ timeout: 60_000 });
    await view.close();
  });

  it("a session's card shows how long it has waited, live; typing a in the composer or with a dialog open decides nothing; d denies", async () => {
    const page = await context.newPage();
    await page.goto(`${stack.url}/session/?id=${two.id}`);
    const card = page.getByTestId('approval-card');
    await card.waitFor();
    const waiting = card.getByTestId('approval-waiting');
    const first = await waiting.textContent();
    expect(first).toMatch(/^waiting \d+ (s|min)$/);
    // Live: the time moves on without a reload (it is read again every 10 s).
    await expectEventually(async () => (await waiting.textContent()) !== first, 15_000);
    // This is the oldest approval the viewer may decide: its buttons show the keys.
    await card.locator('[data-keys="on"]').waitFor();
    expect(await card.getByTestId('approval-deny').getAttribute('aria-keyshortcuts')).toBe('d');
    // The policy offers "always allow in this session": s, shown on its button too.
    expect(await card.getByTestId('approval-approve-session').getAttribute('aria-keyshortcuts')).toBe('s');
    await card.screenshot({ path: join(ARTIFACTS, 'approval-card-keys.png') });

    // Typing in the composer is typing.
    const composer = page.getByTestId('composer-input');
    await composer.click();
    await page.keyboard.type('a d');
    expect(await composer.inputValue()).toBe('a d');
    // A dialog open (the shortcut sheet) takes the keys too.
    await composer.fill('');
    await composer.evaluate((el) => (el as unknown as { blur(): void }).blur());
    await page.keyboard.press('?');
    await page.getByTestId('help-sheet').waitFor({ state: 'visible' });
    const sheet = (await page.getByTestId('shortcut').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
    expect(sheet).toEqual(
      expect.arrayContaining([expect.stringMatching(/^a Approve/), expect.stringMatching(/^d Deny/)]),
    );
    await page.keyboard.press('a');
    await page.keyboard.press('Escape');
    await page.getByTestId('help-sheet').waitFor({ state: 'hidden' });
    expect((await approvalsOf(two.id))[0]).toMatchObject({ status: 'pending' });
    expect(await card.getByTestId('approval-status').getAttribute('data-status')).toBe('pending');

    // Out of the field, d denies; the inbox (open in the other tab) counts down live.
    await page.keyboard.press('d');
    await card.locator('[data-testid="approval-status"][data-status="denied"]').waitFor();
    await page.getByTestId('toasts-polite').getByText('Denied.').waitFor();
    expect(await card.getByTestId('approval-waiting').count()).toBe(0);
    await expectEventually(async () => (await inbox.title()) === 'Approvals (0) · Yoke');
    await inbox.getByText('Nothing is waiting for a decision.').waitFor();
    expect((await approvalsOf(two.id))[0]).toMatchObject({ status: 'denied' });
    await expectEventually(async () =>
      (await items(two.id)).some((i) => i.type === 'approval_decision' && i.decision === 'deny'),
    );
    await page.close();
  });

  it('the nav and every tab title count the pending approvals: up live when one is asked, down when decided in another tab', async () => {
    await expectEventually(async () => (await pendingCount()) === 0, 60_000);
    const list = await context.newPage();
    await list.goto(`${stack.url}/`);
    await list.getByTestId('session-row').first().waitFor();
    const badge = list.getByTestId('nav-approvals-count');
    // Nothing waits: no badge, and the title is the page's own.
    await expectEventually(async () => (await list.title()) === 'Sessions · Yoke');
    expect(await badge.count()).toBe(0);
    expect(await list.getByTestId('nav-approvals').textContent()).toBe('Approvals');

    // Asked while the list is open: the badge and the title count it without a reload.
    const s = await sessionWaiting('Badge one', 'BADGE go');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('1');
    await expectEventually(async () => (await list.title()) === '(1) Sessions · Yoke');
    // Read out in words ("Approvals, 1 pending"; the browser may space the hidden words apart).
    expect(await list.getByRole('link', { name: PENDING_ONE }).count()).toBe(1);

    // A session page: the badge too, and its live title led by the count.
    const view = await context.newPage();
    await view.goto(`${stack.url}/session/?id=${s.id}`);
    await view.getByTestId('approval-card').waitFor();
    await view.getByRole('link', { name: PENDING_ONE }).waitFor();
    await expectEventually(async () => (await view.title()) === '(1) Badge one · Yoke');
    await view.screenshot({ path: join(ARTIFACTS, 'approvals-nav-badge.png') });

    // The inbox counts in its own title, once.
    await inbox.goto(`${stack.url}/approvals/`);
    await expectEventually(async () => (await inbox.title()) === 'Approvals (1) · Yoke');
    await inbox.getByRole('link', { name: PENDING_ONE }).waitFor();

    // Decided in the inbox: the other tabs count down live.
    const entry = inbox.getByTestId('inbox-approval').filter({ hasText: 'Badge one' });
    await entry.getByTestId('inbox-approve').click();
    await expectEventually(async () => (await list.title()) === 'Sessions · Yoke');
    await expectEventually(async () => (await view.title()) === 'Badge one · Yoke');
    expect(await badge.count()).toBe(0);
    expect(await view.getByTestId('nav-approvals-count').count()).toBe(0);
    await expectEventually(async () => (await inbox.title()) === 'Approvals (0) · Yoke');
    expect(await pendingCount()).toBe(0);
    await view.getByText('Badge done.').waitFor({ timeout: 60_000 });
    await view.close();
    await list.close();
  });

  it('notifies when an approval waits and when the turn ends while the tab is hidden, and not while it is visible', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 }, permissions: ['notifications'] });
    await ctx.addInitScript({ content: NOTIFICATION_RECORDER });
    const page = await ctx.newPage();
    await page.goto(`${stack.url}/?token=${stack.token}`);
    await page.getByTestId('session-row').first().waitFor();
    expect(await page.evaluate<string>('Notification.permission')).toBe('granted');
    const notes = () => page.evaluate<Note[]>('window.__notes');

    await page.evaluate('window.__setHidden(true)');
    const s = await sessionWaiting('Notify me', 'NOTIFY go');
    const asked = await expectEventually(async () => (await notes()).find((n) => n.title === 'Approval needed'));
    expect(asked.body).toBe('Notify me is waiting for your approval.');

    const approvalId = (await approvalsOf(s.id))[0].approvalId;
    expect(
      (await stack.api('POST', `/sessions/${s.id}/approvals/${approvalId}`, { decision: 'approve' })).status,
    ).toBeLessThan(300);
    const ended = await expectEventually(async () => (await notes()).find((n) => n.title === 'Turn finished'), 60_000);
    expect(ended.body).toBe('Notify me: the agent has finished.');
    expect((await notes()).length).toBe(2);

    // Visible again: the next approval shows in the page (its row in the live list) and nothing pops up.
    await page.evaluate('window.__setHidden(false)');
    const quiet = await sessionWaiting('Quiet one', 'QUIET go');
    await page
      .getByTestId('session-row')
      .filter({ hasText: 'Quiet one' })
      .locator('[data-testid="session-status"][data-status="waiting_approval"]')
      .waitFor();
    expect((await notes()).length).toBe(2);
    const quietApproval = (await approvalsOf(quiet.id))[0].approvalId;
    await stack.api('POST', `/sessions/${quiet.id}/approvals/${quietApproval}`, { decision: 'deny' });
    await ctx.close();
  });
});
