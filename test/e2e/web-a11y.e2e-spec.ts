import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import type { ItemsAck, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

// Code run in the page is passed as text: the tests compile without the DOM's types.

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const AXE = require.resolve('axe-core/axe.min.js');
const WIDTHS = [1440, 390];
const SCHEMES = ['light', 'dark'] as const;

type Violation = { id: string; impact: string | null; help: string; nodes: string[] };

/**
 * axe-core on every page of the web UI, at 1440 and 390 px, light and dark: no serious or critical violation. A
 * screenshot of each is saved under test/artifacts/ (git-ignored).
 */
describe('web UI: accessibility (axe-core) on every page', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runner: Socket;
  let session: Session;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack('embedded');
    runner = (await stack.connectRawRunner()).socket;
    session = (
      await stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Accessibility check',
      })
    ).body;
    const items: Record<string, unknown>[] = [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: 'run the tests, then push' }] },
      {
        type: 'agent_message',
        text: 'Running:\n\n| step | result |\n| --- | --- |\n| test | ok |\n\n```ts\nconst a = 1;\n```',
      },
      {
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'npm test' },
        status: 'pending',
      },
      {
        type: 'command',
        callId: 'c1',
        argv: ['bash', '-lc', 'npm test'],
        cwd: '/work',
        exitCode: 0,
        output: 'ok\n',
      },
      { type: 'tool_result', callId: 'c1', output: 'ok', isError: false },
      { type: 'file_change', path: 'src/a.ts', diff: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-old\n+new\n' },
      {
        type: 'policy_decision',
        action: 'tool_call',
        callId: 'c2',
        verdict: 'ask',
        policies: ['ask-push'],
        reasons: ['pushes need a person'],
      },
      {
        type: 'tool_call',
        callId: 'c2',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'git push' },
        status: 'pending',
      },
      {
        type: 'approval_request',
        approvalId: 'a1',
        callId: 'c2',
        subject: 'tool_call',
        policy: 'ask-push',
        reason: 'pushes need a person',
        options: ['approve', 'deny'],
      },
    ];
    const batch = items.map((item, i) => ({ seq: i + 1, turnId: 't1', createdAt: new Date().toISOString(), ...item }));
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId: session.id, items: batch });
    expect(ack).toEqual({ ok: true, lastSeq: items.length });

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    await page.goto(`${stack.url}/?token=${stack.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** Runs axe on the page as it is: the serious and critical violations, each with the elements it found. */
  async function axe(on: Page): Promise<Violation[]> {
    if (!(await on.evaluate<boolean>("typeof window.axe !== 'undefined'"))) await on.addScriptTag({ path: AXE });
    return on.evaluate<Violation[]>(`
      window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
        r.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })),
      )`);
  }

  /** Every variant of one page: widths and colour schemes. Returns the violations found, labelled by variant. */
  async function checkPage(on: Page, name: string, ready: () => Promise<void>): Promise<string[]> {
    const found: string[] = [];
    for (const colorScheme of SCHEMES) {
      await on.emulateMedia({ colorScheme });
      for (const width of WIDTHS) {
        await on.setViewportSize({ width, height: 900 });
        await ready();
        // Let transitions settle before contrast is measured.
        await on.waitForTimeout(250);
        for (const v of await axe(on))
          found.push(`${name} ${width} ${colorScheme}: ${v.id} (${v.impact}) ${v.help} ${v.nodes.join(', ')}`);
        await on.screenshot({ path: join(ARTIFACTS, `a11y-${name}-${width}-${colorScheme}.png`), fullPage: true });
      }
    }
    await on.emulateMedia({ colorScheme: 'light' });
    await on.setViewportSize({ width: 1440, height: 900 });
    return found;
  }

  it('the session list', async () => {
    await page.goto(`${stack.url}/`);
    const ready = () => page.getByTestId('session-row').first().waitFor();
    expect(await checkPage(page, 'sessions', ready)).toEqual([]);
  });

  it('a session with items and an approval waiting', async () => {
    await page.goto(`${stack.url}/session/?id=${session.id}`);
    const ready = () => page.getByTestId('approval-card').first().waitFor();
    expect(await checkPage(page, 'session', ready)).toEqual([]);
  });

  it('the approvals inbox', async () => {
    await page.goto(`${stack.url}/approvals/`);
    const ready = () => page.getByTestId('inbox-approval').first().waitFor();
    expect(await checkPage(page, 'approvals', ready)).toEqual([]);
  });

  it('admin: the policy editor', async () => {
    await page.goto(`${stack.url}/admin/?tab=policies`);
    const ready = () => page.locator('[data-testid="policy-code"][data-ready="true"]').waitFor();
    expect(await checkPage(page, 'admin-policies', ready)).toEqual([]);
  });

  it('the audit log', async () => {
    await page.goto(`${stack.url}/audit/`);
    const ready = () => page.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await checkPage(page, 'audit', ready)).toEqual([]);
  });

  it('usage', async () => {
    await page.goto(`${stack.url}/usage/`);
    const ready = () => page.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await checkPage(page, 'usage', ready)).toEqual([]);
  });

  it('the join page', async () => {
    // The join page as a link without its token shows it (the guest form needs a share link of another person).
    await page.goto(`${stack.url}/join/`);
    const ready = () => page.getByRole('alert').filter({ hasText: 'This share link is incomplete' }).waitFor();
    expect(await checkPage(page, 'join', ready)).toEqual([]);
  });

  it('the command palette and the shortcut sheet, open', async () => {
    await page.goto(`${stack.url}/`);
    await page.getByTestId('session-row').first().waitFor();
    await page.keyboard.press('Control+K');
    const palette = () => page.locator('[data-testid="palette-session"]').first().waitFor();
    expect(await checkPage(page, 'palette', palette)).toEqual([]);
    await page.keyboard.press('Escape');
    await page.getByTestId('command-palette').waitFor({ state: 'hidden' });
    // Focus goes back to the page once the palette has closed; only then is `?` a shortcut rather than text.
    await expectEventually(() => page.evaluate<boolean>('document.activeElement === document.body'));
    await page.keyboard.press('?');
    const sheet = () => page.getByTestId('help-sheet').waitFor({ state: 'visible' });
    expect(await checkPage(page, 'shortcuts', sheet)).toEqual([]);
    await page.keyboard.press('Escape');
  });
});
