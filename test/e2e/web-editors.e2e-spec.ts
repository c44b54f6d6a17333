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
const CURRENT_POLICY = '# Current org policy\n- { type: deny_commands, name: no-rm, patterns: ["rm -rf"] }\n';
const EXAMPLES = ['ask-shell', 'deny-network', 'guard-destructive', 'budget'];

/**
 * The policy editor, the share dialog, the command palette and shortcuts, and the installable app, in a real browser
 * against a real server. A raw /runner socket reports the recorded items the dry run replays.
 */
describe('web UI: editors, palette and installable app', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runner: Socket;
  let deploy: Session;
  let refactor: Session;
  const seqs = new Map<string, number>();

  async function report(sessionId: string, items: Record<string, unknown>[], turnId = 't1'): Promise<void> {
    let seq = seqs.get(sessionId) ?? 0;
    const batch = items.map((item) => ({ seq: ++seq, turnId, createdAt: new Date().toISOString(), ...item }));
    seqs.set(sessionId, seq);
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId, items: batch });
    expect(ack).toEqual({ ok: true, lastSeq: seq });
  }

  async function createSession(title: string): Promise<Session> {
    const res = await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** The editor's text, line by line, as CodeMirror renders it. */
  async function editorLines(): Promise<string[]> {
    return page.locator('.cm-content .cm-line').allTextContents();
  }

  async function typeInEditor(text: string): Promise<void> {
    await page.locator('.cm-content').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack('embedded');
    runner = (await stack.connectRawRunner()).socket;
    deploy = await createSession('Deploy check');
    refactor = await createSession('Refactor the auth module');
    await report(deploy.id, [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: 'fetch the installer' }] },
      { type: 'policy_decision', action: 'tool_call', callId: 'c1', verdict: 'allow', policies: [], reasons: [] },
      {
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'curl -fsSL https://example.com/install.sh' },
        status: 'pending',
      },
      { type: 'tool_result', callId: 'c1', output: 'ok', isError: false },
      { type: 'agent_message', text: 'Fetched.' },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ]);
    expect((await stack.api('PUT', '/policies', { yaml: CURRENT_POLICY })).status).toBe(200);

    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await context.newPage();
    await page.goto(`${stack.url}/?token=${stack.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("policy editor: opens on the org's current policy in a code editor with line numbers", async () => {
    await page.goto(`${stack.url}/admin/?tab=policies`);
    await page.locator('[data-testid="policy-code"][data-ready="true"]').waitFor();
    expect((await editorLines()).join('\n')).toBe(CURRENT_POLICY.trimEnd() + '\n');
    const numbers = await page.locator('.cm-lineNumbers .cm-gutterElement').allTextContents();
    expect(numbers).toEqual(expect.arrayContaining(['1', '2', '3']));
    // YAML is highlighted: the comment and the keys are their own tokens.
    expect(await page.locator('.cm-line').first().locator('span').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('policy-save').isDisabled()).toBe(true);
  });

  it('policy editor: a bad policy is marked inline at its line, and saving is refused', async () => {
    await typeInEditor('- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n- { type: nope }\n');
    const issue = page.getByTestId('policy-issue').first();
    await issue.waitFor();
    expect(await issue.getAttribute('data-line')).toBe('2');
    const lines = page.locator('.cm-content .cm-line');
    await lines.nth(1).locator('.cm-lintRange-error').waitFor();
    expect(await lines.nth(0).locator('.cm-lintRange-error').count()).toBe(0);
    expect(await page.locator('.cm-gutter-lint .cm-lint-marker-error').count()).toBe(1);
    expect(await page.getByTestId('policy-save').isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'policy-editor-error.png'), fullPage: true });
  });

  it('policy editor: every example is one click away and is valid', async () => {
    for (const id of EXAMPLES) {
      const validated = page.waitForResponse(
        (r) => r.url().endsWith('/policies/validate') && (r.request().postData() ?? '').includes('type:'),
      );
      await page.locator(`[data-testid="policy-example"][data-example="${id}"]`).click();
      const reply = (await (await validated).json()) as { ok: boolean; issues: unknown[] };
      expect({ id, ...reply }).toEqual({ id, ok: true, issues: [] });
      expect(await page.getByTestId('policy-issue').count()).toBe(0);
      expect((await editorLines()).length).toBeGreaterThan(2);
    }
  });

  it('policy editor: a dry run lists each action that would be denied, with its reason and a link to the item', async () => {
    await page.locator('[data-testid="policy-example"][data-example="deny-network"]').click();
    await expectEventually(async () => (await editorLines()).some((l) => l.includes('no-downloads')));
    await expectEventually(async () => !(await page.getByTestId('policy-dry-run').isDisabled()));
    await page.getByTestId('policy-dry-run').click();
    const decision = page
      .getByTestId('dry-run-detail')
      .filter({ hasText: 'Deploy check' })
      .getByTestId('dry-run-decision');
    await decision.first().waitFor();
    expect(await decision.count()).toBe(1);
    expect(await decision.getAttribute('data-verdict')).toBe('deny');
    expect(await decision.getByTestId('dry-run-verdict').textContent()).toBe('deny (was allow)');
    expect(await decision.getByTestId('dry-run-summary').textContent()).toBe(
      'shell: curl -fsSL https://example.com/install.sh',
    );
    expect(await decision.getByTestId('dry-run-reasons').textContent()).toMatch(/^no-downloads: /);
    expect(await decision.getByTestId('dry-run-item-link').getAttribute('href')).toBe(
      `/session/?id=${deploy.id}#item-4`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'policy-dry-run.png'), fullPage: true });

    // Saved, and the editor opens on it next time.
    await page.getByTestId('policy-save').click();
    await page.getByRole('status').filter({ hasText: 'Saved: 2 policies' }).waitFor();
    // A toast says so too, in a live region screen readers announce.
    const toast = page.getByTestId('toasts-polite').getByTestId('toast');
    await toast.filter({ hasText: /^Org policies saved \(2, version \d+\)/ }).waitFor();
    expect(await page.getByTestId('toasts-polite').getAttribute('aria-live')).toBe('polite');
    await page.reload();
    await page.locator('[data-testid="policy-code"][data-ready="true"]').waitFor();
    expect((await editorLines()).some((l) => l.includes('no-downloads'))).toBe(true);
  });

  it('share dialog: roles explained, a Copy button for the new link, expiry and uses listed, Esc closes, focus stays in', async () => {
    await page.goto(`${stack.url}/session/?id=${deploy.id}`);
    await page.getByTestId('share-button').click();
    const dialog = page.getByTestId('share-dialog');
    await dialog.waitFor({ state: 'visible' });
    const roles = await dialog.getByTestId('share-roles').innerText();
    expect(roles).toMatch(/viewer\s+Watches the conversation/);
    expect(roles).toMatch(/commenter\s+Everything a viewer can, plus comments/);
    expect(roles).toMatch(/driver\s+Everything a commenter can, plus sends prompts/);

    await dialog.getByTestId('link-role').selectOption('commenter');
    await dialog.getByTestId('link-expiry').selectOption({ label: '1 day' });
    await dialog.getByTestId('link-max-uses').fill('3');
    await dialog.getByTestId('link-create').click();
    const url = await dialog.getByTestId('link-url').inputValue();
    expect(url).toMatch(new RegExp(`^${stack.url}/join/\\?token=`));
    await dialog.getByTestId('link-copy').click();
    await dialog.getByTestId('link-copy').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(url);
    const link = dialog.getByTestId('share-link').first();
    expect(await link.getByTestId('link-uses').textContent()).toContain('0 of 3 uses');
    expect(await link.getByTestId('link-expiry-text').textContent()).toMatch(/expires in 24 h \(/);

    // Tab and Shift-Tab cycle inside the dialog.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      expect(await page.evaluate<boolean>('!!document.activeElement.closest(\'[data-testid="share-dialog"]\')')).toBe(
        true,
      );
    }
    await page.screenshot({ path: join(ARTIFACTS, 'share-dialog.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('Ctrl-K opens the command palette: it jumps to a session and starts a new one', async () => {
    await page.goto(`${stack.url}/`);
    await page.getByTestId('session-row').first().waitFor();
    await page.keyboard.press('Control+K');
    const palette = page.getByTestId('command-palette');
    await palette.waitFor({ state: 'visible' });
    await page.locator(`[data-testid="palette-session"][data-session-id="${refactor.id}"]`).waitFor();
    await page.keyboard.type('refactor auth');
    await expectEventually(async () => (await palette.getByTestId('palette-session').count()) === 1).catch(async () => {
      expect(await palette.getByTestId('palette-session').allInnerTexts()).toEqual(['Refactor the auth module']);
    });
    expect(await palette.getByTestId('palette-session').getAttribute('data-session-id')).toBe(refactor.id);
    await page.screenshot({ path: join(ARTIFACTS, 'command-palette.png') });
    await page.keyboard.press('Enter');
    await page.waitForURL(`${stack.url}/session/?id=${refactor.id}`);
    await palette.waitFor({ state: 'hidden' });

    await page.evaluate(
      "window.__newSession = 0; window.addEventListener('yoke:new-session', () => { window.__newSession += 1; })",
    );
    await page.keyboard.press('Control+K');
    await palette.waitFor({ state: 'visible' });
    await page.keyboard.type('new session');
    await page.keyboard.press('Enter');
    await palette.waitFor({ state: 'hidden' });
    expect(await page.evaluate<number>('window.__newSession')).toBe(1);
  });

  it('? opens the keyboard shortcut sheet; g a goes to approvals', async () => {
    await page.goto(`${stack.url}/usage/`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.keyboard.press('?');
    const sheet = page.getByTestId('help-sheet');
    await sheet.waitFor({ state: 'visible' });
    const rows = await sheet.getByTestId('shortcut').allInnerTexts();
    expect(rows.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual(
      expect.arrayContaining([
        'Ctrl K Open the command palette (⌘ K on a Mac)',
        'g s Go to Sessions',
        'g a Go to Approvals',
      ]),
    );
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'hidden' });
    await page.keyboard.press('g');
    await page.keyboard.press('a');
    await page.waitForURL(`${stack.url}/approvals/`);
  });

  it('is installable: a manifest with icons, served with their types, and a service worker for the app shell only', async () => {
    const manifestHref = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(manifestHref).toBe('/manifest.webmanifest');
    const manifest = await page.request.get(`${stack.url}${manifestHref}`);
    expect(manifest.headers()['content-type']).toMatch(/^application\/manifest\+json/);
    const body = (await manifest.json()) as {
      display: string;
      theme_color: string;
      icons: { src: string; type: string }[];
    };
    expect(body.display).toBe('standalone');
    expect(body.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(body.icons.map((i) => i.type)).toEqual(expect.arrayContaining(['image/svg+xml', 'image/png']));
    for (const icon of body.icons) {
      const res = await page.request.get(`${stack.url}${icon.src}`);
      expect({ src: icon.src, status: res.status(), type: res.headers()['content-type'] }).toEqual({
        src: icon.src,
        status: 200,
        type: expect.stringContaining(icon.type) as string,
      });
    }
    const sw = await page.request.get(`${stack.url}/sw.js`);
    expect(sw.headers()['content-type']).toMatch(/^(application|text)\/javascript/);

    const scope = await page.evaluate<string>('navigator.serviceWorker.ready.then((r) => r.scope)');
    expect(scope).toBe(`${stack.url}/`);
    // The shell is cached; after using the app under the worker (API calls included), no API response is.
    await page.goto(`${stack.url}/`);
    expect(await page.evaluate<boolean>('navigator.serviceWorker.controller !== null')).toBe(true);
    await page.getByTestId('session-row').first().waitFor();
    const cached = await page.evaluate<string[]>(
      "caches.open('yoke-shell-v1').then((c) => c.keys()).then((ks) => ks.map((r) => new URL(r.url).pathname))",
    );
    expect(cached).toEqual(expect.arrayContaining(['/', '/session/', '/approvals/', '/manifest.webmanifest']));
    expect(cached.filter((p) => p.startsWith('/api/') || p.startsWith('/socket.io'))).toEqual([]);
  });
});
