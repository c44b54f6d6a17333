import type { Browser, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import type { ItemsAck, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: long\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
/** Items in the session: well past the 200 rows above which the view draws only the rows near the window. */
const ITEMS = 600;

/** Ten items of one turn, as a runner records them (the same shape bench/web.ts seeds). */
function turn(t: number): Record<string, unknown>[] {
  const callId = `c${t}`;
  return [
    { type: 'turn_started' },
    { type: 'user_message', content: [{ type: 'text', text: `Fix test number ${t}, please.` }] },
    { type: 'policy_decision', action: 'prompt', verdict: 'allow', policies: [], reasons: [] },
    { type: 'agent_message', text: `Looking at test ${t} first.` },
    { type: 'tool_call', callId, tool: 'shell', nativeTool: 'bash', input: { command: 'npm test' }, status: 'pending' },
    { type: 'command', callId, argv: ['bash', '-lc', 'npm test'], cwd: '/work', exitCode: 0, output: 'ok\n'.repeat(4) },
    { type: 'tool_result', callId, output: 'ok\n'.repeat(4), isError: false },
    { type: 'usage', model: 'claude-sonnet-4-5', inputTokens: 5200, outputTokens: 400, cachedTokens: 0, costUsd: 0.01 },
    { type: 'agent_message', text: `Test ${t} passes now.` },
    { type: 'turn_completed', stopReason: 'end_turn' },
  ];
}

/** The seq of turn `t`'s prompt (the second of its ten items). */
const promptSeq = (t: number) => (t - 1) * 10 + 2;

/** Where an element is against the window, measured in the page. */
const BOX_OF = (selector: string) =>
  `(() => { const r = document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect();
     return r ? { top: r.top, bottom: r.bottom, height: window.innerHeight } : null; })()`;
type Box = { top: number; bottom: number; height: number } | null;

/**
 * A long session in a real browser (Debian chromium) against the embedded server: 600 items reported through the
 * runner's own write path (a raw runner socket, as bench/web.ts seeds), then opened.
 */
describe('web UI: a long session', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let runner: Socket;
  let session: Session;
  let seq = 0;

  async function report(items: Record<string, unknown>[], to: Session = session): Promise<void> {
    const base = Date.now() - ITEMS * 1000;
    const batch = items.map((item) => ({
      seq: ++seq,
      turnId: `t${Math.ceil(seq / 10)}`,
      createdAt: new Date(base + seq * 1000).toISOString(),
      ...item,
    }));
    const ack = (await runner.timeout(30_000).emitWithAck('session.items', {
      sessionId: to.id,
      items: batch,
    })) as ItemsAck;
    if (!ack.ok) throw new Error(`items refused: ${JSON.stringify(ack)}`);
  }

  /** Whether the element `selector` finds is drawn and wholly or partly inside the window. */
  async function isOnScreen(selector: string): Promise<boolean> {
    const box = await page.evaluate<Box>(BOX_OF(selector));
    return box !== null && box.bottom > 0 && box.top < box.height;
  }

  /** The outline style of the element `selector` finds: the highlight's outline, or none. */
  function outlineOf(selector: string): Promise<string> {
    return page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).outlineStyle`);
  }

  beforeAll(async () => {
    stack = await startStack('embedded');
    runner = (
      await stack.connectRawRunner({ name: 'long-session', onInput: (_e, ack) => ack({ ok: true, applied: true }) })
    ).socket;
    session = (
      await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title: 'Long one' })
    ).body;
    const all: Record<string, unknown>[] = [];
    for (let t = 1; all.length < ITEMS; t++) all.push(...turn(t));
    for (let i = 0; i < ITEMS; i += 200) await report(all.slice(i, i + 200));

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${stack.url}/?token=${stack.token}`);
  });

  afterAll(async () => {
    runner?.close();
    await browser?.close();
    await stack?.stop();
  });

  it('opens at the end with far fewer rows drawn than items; a live item shows at the bottom', async () => {
    await page.goto(`${stack.url}/session/?id=${session.id}`);
    await page.locator(`[data-testid="item"][data-seqs~="${ITEMS}"]`).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('timeline').getAttribute('data-virtual')).toBe('true');
    const drawn = await page.getByTestId('item').count();
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(ITEMS / 4);
    // At the end: the last turn's answer is on screen.
    await expectEventually(() => isOnScreen(`[data-testid="item"][data-seqs~="${ITEMS - 1}"]`));

    await report([{ type: 'agent_message', text: 'A live answer at the bottom.' }]);
    const live = `[data-testid="item"][data-seqs~="${ITEMS + 1}"]`;
    await page.locator(live).getByText('A live answer at the bottom.').waitFor();
    // Pinned to the bottom, the view follows it onto the screen.
    await expectEventually(() => isOnScreen(live));
    expect(await page.getByTestId('item').count()).toBeLessThan(ITEMS / 4);
  });

  it('scrolling to the top shows the first prompt', async () => {
    const first = `#item-${promptSeq(1)}`;
    expect(await page.locator(first).count()).toBe(0);
    await expectEventually(async () => {
      await page.evaluate('window.scrollTo(0, 0)');
      return isOnScreen(first);
    });
    expect(await page.locator(first).textContent()).toContain('Fix test number 1, please.');
    expect(await page.locator(`[data-testid="item"][data-seqs~="${ITEMS}"]`).count()).toBe(0);
  });

  it('a reader scrolled up stays where they are while items arrive; back at the bottom, the view follows again', async () => {
    const first = `#item-${promptSeq(1)}`;
    expect(await isOnScreen(first)).toBe(true);
    const height = () => page.evaluate<number>('document.documentElement.scrollHeight');
    const before = await height();
    await report([{ type: 'agent_message', text: 'Arrived while the reader was reading the top.' }]);
    await expectEventually(async () => (await height()) > before);
    expect(await page.evaluate<number>('window.scrollY')).toBe(0);
    expect(await isOnScreen(first)).toBe(true);

    // The reader scrolls down to the end: the view is pinned again and the next item comes onto the screen.
    const arrived = `[data-testid="item"][data-seqs~="${seq}"]`;
    await expectEventually(async () => {
      await page.mouse.wheel(0, 100_000);
      return isOnScreen(arrived);
    });
    await report([{ type: 'agent_message', text: 'Followed to the bottom.' }]);
    const next = `[data-testid="item"][data-seqs~="${seq}"]`;
    await page.locator(next).getByText('Followed to the bottom.').waitFor();
    await expectEventually(() => isOnScreen(next));
  });

  it('an #item-N link scrolls its row, not drawn before, into view: in the page and on opening the address', async () => {
    const middle = `#item-${promptSeq(30)}`;
    expect(await page.locator(middle).count()).toBe(0);
    await page.evaluate(`window.location.hash = '${middle}'`);
    await expectEventually(() => isOnScreen(middle));
    expect(await page.locator(middle).textContent()).toContain('Fix test number 30, please.');
    // The reader followed a link from the bottom: an item arriving now does not pull the view back down.
    const height = () => page.evaluate<number>('document.documentElement.scrollHeight');
    const before = await height();
    await report([{ type: 'agent_message', text: 'Arrived while the reader followed a link.' }]);
    await expectEventually(async () => (await height()) > before);
    expect(await isOnScreen(middle)).toBe(true);
    // The row it led to is marked (`:target` cannot mark a row drawn after the hash changed), for a few seconds.
    const marked = page.locator(`${middle}[data-highlighted="true"]`);
    await marked.waitFor();
    expect(await outlineOf(middle)).toBe('solid');
    expect(await page.locator('[data-testid="item"][data-highlighted]').count()).toBe(1);
    await marked.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await outlineOf(middle)).toBe('none');
    // Its own number links to itself: what fork and comments refer to.
    expect(await page.locator(`${middle} [data-testid="item-no"]`).getAttribute('href')).toBe(middle);

    const other = `#item-${promptSeq(12)}`;
    await page.goto(`${stack.url}/session/?id=${session.id}${other}`);
    await expectEventually(() => isOnScreen(other), 60_000);
    expect(await page.locator(other).textContent()).toContain('Fix test number 12, please.');
    await page.locator(`${other}[data-highlighted="true"]`).waitFor();
    expect(await page.getByTestId('item').count()).toBeLessThan(ITEMS / 4);
  });

  it('in a short session (every row drawn) an #item-N link marks its row too', async () => {
    const short = (
      await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title: 'Short one' })
    ).body;
    seq = 0;
    await report([...turn(1), ...turn(2)], short);
    const target = `#item-${promptSeq(2)}`;
    await page.goto(`${stack.url}/session/?id=${short.id}`);
    await page.locator(target).waitFor();
    expect(await page.getByTestId('timeline').getAttribute('data-virtual')).toBeNull();
    expect(await page.locator('[data-testid="item"][data-highlighted]').count()).toBe(0);
    await page.evaluate(`window.location.hash = '${target}'`);
    await page.locator(`${target}[data-highlighted="true"]`).waitFor();
    expect(await outlineOf(target)).toBe('solid');
    expect(await page.locator(`#item-${promptSeq(1)}[data-highlighted]`).count()).toBe(0);
  });
});
