import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import type { ItemsAck, Session } from '@yoke/protocol';
import { launchBrowser, attributesOf } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

// Code run in the page is passed as text: the tests compile without the DOM's types.

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const ARTIFACTS = join(__dirname, '..', 'artifacts');

const MARKDOWN = [
  'Here is the plan:',
  '',
  '| file | change |',
  '| --- | --- |',
  '| src/a.ts | ~~old~~ new |',
  '',
  '> quoted *note*',
  '',
  '- [x] tests',
  '- [ ] docs',
  '',
  '```ts',
  'const answer: number = 42;',
  '```',
  '',
  'See [the docs](https://example.com/docs).',
  '',
  '<img src="x" onerror="window.__pwned = 1"> <script>window.__pwned = 2</script>',
].join('\n');

/**
 * The session page as a conversation, in a real browser against a real server. The runner is a raw /runner socket
 * that reports exactly the items each check needs (no model in the loop): a markdown reply, a shell action folded
 * from its call, command and result, allowed / asked / denied policy decisions, and an approval waiting.
 */
describe('web UI: the conversation view', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runner: Socket;
  let session: Session;
  const notFound: string[] = [];
  const seqs = new Map<string, number>();
  /** Items are dated from an hour ago, ten seconds apart, so durations and waits are known. */
  const base = Date.now() - 3_600_000;

  async function report(sessionId: string, items: Record<string, unknown>[], turnId = 't1'): Promise<void> {
    let seq = seqs.get(sessionId) ?? 0;
    const batch = items.map((item) => ({
      seq: ++seq,
      turnId,
      createdAt: new Date(base + seq * 10_000).toISOString(),
      ...item,
    }));
    seqs.set(sessionId, seq);
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId, items: batch });
    expect(ack).toEqual({ ok: true, lastSeq: seq });
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack('embedded');
    runner = (
      await stack.connectRawRunner({
        onInput: (entry, ack) => {
          ack({ ok: true, applied: true });
          if (entry.input.kind !== 'message') return;
          const { content, actor } = entry.input;
          const text = content.map((p) => (p.type === 'text' ? p.text : '')).join('');
          void report(
            entry.sessionId,
            [
              { type: 'turn_started' },
              { type: 'user_message', content, actor },
              { type: 'agent_message', text: `Echo: ${text}` },
              { type: 'turn_completed', stopReason: 'end_turn' },
            ],
            `t-${text}`,
          );
        },
      })
    ).socket;
    session = (
      await stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Conversation check',
      })
    ).body;

    const at = (ms: number) => new Date(base + 100_000 + ms).toISOString();
    await report(session.id, [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: 'show me the plan' }] },
      { type: 'policy_decision', action: 'prompt', verdict: 'allow', policies: ['budget'], reasons: [] },
      { type: 'agent_message', text: MARKDOWN },
      { type: 'policy_decision', action: 'tool_call', callId: 'c1', verdict: 'allow', policies: [], reasons: [] },
      {
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'npm test' },
        status: 'pending',
        createdAt: at(0),
      },
      {
        type: 'command',
        callId: 'c1',
        argv: ['bash', '-lc', 'npm test'],
        cwd: '/work',
        exitCode: 0,
        output: 'all green\n',
        createdAt: at(1200),
      },
      { type: 'tool_result', callId: 'c1', output: 'all green\n[exit code: 0]', isError: false, createdAt: at(1200) },
      {
        type: 'policy_decision',
        action: 'tool_call',
        callId: 'c2',
        verdict: 'deny',
        policies: ['no-rm'],
        reasons: ['no-rm: rm -rf is not allowed'],
      },
      {
        type: 'tool_call',
        callId: 'c2',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'rm -rf /' },
        status: 'denied',
      },
      { type: 'tool_result', callId: 'c2', output: 'denied by policy no-rm', isError: true },
      { type: 'file_change', path: 'src/a.ts', diff: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-old\n+new\n' },
      {
        type: 'usage',
        model: 'claude-sonnet-4-5',
        inputTokens: 1200,
        outputTokens: 300,
        cachedTokens: 0,
        costUsd: 0.01,
      },
      { type: 'policy_decision', action: 'usage', verdict: 'allow', policies: [], reasons: [] },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ]);
    await report(
      session.id,
      [
        { type: 'turn_started' },
        {
          type: 'tool_call',
          callId: 'c3',
          tool: 'shell',
          nativeTool: 'bash',
          input: { command: 'git push --force origin main' },
          status: 'pending',
        },
        {
          type: 'policy_decision',
          action: 'tool_call',
          callId: 'c3',
          verdict: 'ask',
          policies: ['ask-push'],
          reasons: ['pushes need a person'],
        },
        {
          type: 'approval_request',
          approvalId: 'a1',
          callId: 'c3',
          subject: 'tool_call',
          policy: 'ask-push',
          reason: 'pushes need a person',
          options: ['approve', 'deny'],
        },
      ],
      't2',
    );

    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await context.newPage();
    page.on('response', (r) => {
      if (r.status() === 404) notFound.push(r.url());
    });
    await page.goto(`${stack.url}/?token=${stack.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openSession(): Promise<void> {
    await page.goto(`${stack.url}/session/?id=${session.id}`);
    await page.getByTestId('approval-card').waitFor();
  }

  it('renders agent markdown (table, quote, task list, strikethrough, safe links) and never runs agent HTML', async () => {
    await openSession();
    const md = page.locator('[data-type="agent_message"] .md').first();
    expect(await md.locator('table td').allTextContents()).toEqual(['src/a.ts', 'old new']);
    expect(await md.locator('del').textContent()).toBe('old');
    expect(await md.locator('blockquote em').textContent()).toBe('note');
    expect(await md.locator('input[type="checkbox"]').count()).toBe(2);
    const link = md.locator('a', { hasText: 'the docs' });
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
    // The HTML is shown as text: no element made from it, nothing run.
    expect(await md.locator('img, script').count()).toBe(0);
    expect(await md.textContent()).toContain('<img src="x" onerror=');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  });

  it('highlights code blocks and copies them', async () => {
    const block = page.locator('[data-type="agent_message"] .code-block').first();
    // The highlighter loads on first use: wait for its classes rather than count before it has run.
    await block.locator('.hljs-keyword').first().waitFor();
    expect(await block.locator('code.hljs.language-ts').count()).toBe(1);
    expect(await block.locator('.hljs-keyword').first().textContent()).toBe('const');
    await block.getByTestId('code-copy').click();
    await block.getByTestId('code-copy').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe('const answer: number = 42;\n');
  });

  it('folds each tool action into one row: the command unwrapped, its exit code and time, the output on demand', async () => {
    const ran = page.locator('[data-testid="tool-action"][data-call-id="c1"]');
    expect(await ran.count()).toBe(1);
    expect((await ran.locator('summary').first().innerText()).replace(/\s+/g, ' ').trim()).toBe(
      'Ran npm test · exit 0 · 1.2 s',
    );
    expect(await page.getByText("bash -lc 'npm test'").count()).toBe(0);
    const output = ran.getByTestId('action-output');
    expect(await output.isVisible()).toBe(false);
    await ran.locator('summary').first().focus();
    await page.keyboard.press('Enter');
    await output.waitFor();
    expect(await output.textContent()).toBe('all green\n');
    expect(await page.getByText('[exit code: 0]').count()).toBe(0);
    // One row per action: the command and result items live in the call's row.
    const row = page.locator('[data-testid="item"]', { has: ran });
    expect((await row.getAttribute('data-seqs'))?.split(' ')).toHaveLength(3);

    const denied = page.locator('[data-testid="tool-action"][data-call-id="c2"]');
    expect(await denied.getAttribute('data-state')).toBe('denied');
    expect(await denied.getByTestId('tool-status').textContent()).toBe('denied');
    await page.getByTestId('file-change').filter({ hasText: 'Edited src/a.ts' }).waitFor();
  });

  it('hides allowed policy decisions until asked, keeps ask and deny, and numbers the items', async () => {
    const decisions = page.getByTestId('policy-decision');
    expect(await attributesOf(decisions, 'data-verdict')).toEqual(['deny', 'ask']);
    await page.getByTestId('show-allowed').check();
    expect(await attributesOf(decisions, 'data-verdict')).toEqual(['allow', 'allow', 'deny', 'allow', 'ask']);
    // Every item is shown once, rows in order, once allowed decisions are shown.
    const rows = (await attributesOf(page.getByTestId('item'), 'data-seqs')).map((v) =>
      (v ?? '').split(' ').map(Number),
    );
    const firsts = rows.map((r) => r[0]);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(rows.flat().sort((a, b) => a - b)).toEqual([...Array(seqs.get(session.id)).keys()].map((i) => i + 1));
    await page.getByTestId('show-allowed').uncheck();
    expect(await page.locator('[data-testid="item"][data-seq="4"] [data-testid="item-no"]').textContent()).toBe('#4');
    await page.getByTestId('usage').waitFor();
  });

  it('shows what an approval asks for: the command, the policy and its reason', async () => {
    const card = page.getByTestId('approval-card');
    expect(await card.getByTestId('approval-action').textContent()).toBe('git push --force origin main');
    expect(await card.textContent()).toContain('ask-push: pushes need a person');
  });

  it('names the tab after the session, led by the count of approvals waiting', async () => {
    await expectEventually(async () => (await page.title()) === '(1) Conversation check · Yoke');
  });

  it('saves screenshots at 1440 and 390 px, light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: join(ARTIFACTS, `conversation-${width}-${colorScheme}.png`), fullPage: true });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 700 });
    // Nothing overflows the narrow screen sideways.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('scrolls to the bottom when the reader sends a message, even scrolled up', async () => {
    await page.setViewportSize({ width: 390, height: 600 });
    await page.evaluate('window.scrollTo({ top: 0 })');
    await expectEventually(async () => (await page.evaluate<number>('window.scrollY')) === 0);
    await page.getByTestId('composer-input').fill('ping from the bottom');
    await page.getByTestId('composer-send').click();
    const reply = page.getByText('Echo: ping from the bottom');
    await reply.waitFor();
    await expectEventually(async () =>
      page.evaluate<boolean>('document.documentElement.scrollHeight - (window.scrollY + window.innerHeight) < 4'),
    );
    const box = await reply.boundingBox();
    expect(box && box.y >= 0 && box.y < 600).toBe(true);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('the approvals inbox shows the command, the session (linked) and how long it has waited; the tab counts it', async () => {
    await page.goto(`${stack.url}/approvals/`);
    const entry = page.getByTestId('inbox-approval');
    await entry.getByTestId('inbox-action').waitFor();
    expect(await entry.getByTestId('inbox-action').textContent()).toBe('git push --force origin main');
    const link = entry.getByTestId('inbox-session');
    await link.filter({ hasText: 'Conversation check' }).waitFor();
    expect(await link.getAttribute('href')).toBe(`/session/?id=${session.id}`);
    expect(await entry.getByTestId('inbox-waiting').textContent()).toMatch(/^waiting \d+ (s|min|h|d)/);
    expect((await entry.textContent())?.split('ask-push').length).toBe(2);
    await expectEventually(async () => (await page.title()) === 'Approvals (1) · Yoke');
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: join(ARTIFACTS, `approvals-${width}-${colorScheme}.png`), fullPage: true });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1440, height: 900 });

    await entry.getByTestId('inbox-approve').click();
    await entry.waitFor({ state: 'detached' });
    await expectEventually(async () => (await page.title()) === 'Approvals (0) · Yoke');
  });

  it('titles the other pages and serves a favicon: no page asks for something missing', async () => {
    await page.goto(`${stack.url}/audit/`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await page.title()).toBe('Audit log · Yoke');
    await page.goto(`${stack.url}/`);
    await expectEventually(async () => (await page.title()) === 'Sessions · Yoke');
    const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
    expect(icon).toBeTruthy();
    expect((await page.request.get(new URL(icon!, stack.url).toString())).status()).toBe(200);
    expect(notFound).toEqual([]);
  });
});
