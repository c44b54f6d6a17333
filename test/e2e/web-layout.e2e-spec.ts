import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import type { ItemsAck, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

/** Where and how big an element is drawn (CSS pixels). */
async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox();
  if (!b) throw new Error('element is not drawn');
  return b;
}

/**
 * The session page's two columns in a real browser against a real server (a raw /runner socket reports a short
 * conversation): from 1100 px the files panel sits beside the reading column with a separator the user drags or moves
 * with the arrow keys, and the split is remembered; on a phone the panel goes below the conversation, with nothing
 * to drag.
 */
describe('web UI: the conversation and the files panel side by side', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runner: Socket;
  let session: Session;

  const separator = (p: Page) => p.getByRole('separator', { name: 'Resize the files panel' });
  const filesColumn = (p: Page) => p.getByTestId('files-panel-column');
  const filesWidth = async (p: Page) => (await box(filesColumn(p))).width;

  async function open(p: Page): Promise<void> {
    await p.goto(`${stack.url}/session/?id=${session.id}`);
    await p.getByText('Here is the plan.').waitFor();
    await p.getByTestId('composer-input').waitFor();
  }

  beforeAll(async () => {
    stack = await startStack('embedded');
    runner = (await stack.connectRawRunner()).socket;
    session = (
      await stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Layout check',
      })
    ).body;
    const items = [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: 'plan it' }] },
      { type: 'agent_message', text: 'Here is the plan.' },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ].map((item, i) => ({ seq: i + 1, turnId: 't1', createdAt: new Date().toISOString(), ...item }));
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId: session.id, items });
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

  it('sets the files panel beside a centred reading column, with a separator between them', async () => {
    await open(page);
    expect(await separator(page).count()).toBe(1);
    expect(await separator(page).getAttribute('aria-orientation')).toBe('vertical');
    expect(Number(await separator(page).getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    expect(await separator(page).getAttribute('tabindex')).toBe('0');

    const reading = await box(page.locator('.session-main'));
    const column = await box(page.locator('[data-panel]', { has: page.locator('.session-main') }));
    const files = await box(filesColumn(page));
    // Beside, not below; the reading column keeps its 760 px, centred in the room the split leaves it.
    expect(files.x).toBeGreaterThan(reading.x + reading.width);
    expect(Math.abs(files.y - column.y)).toBeLessThan(2);
    expect(reading.width).toBeGreaterThan(700);
    expect(reading.width).toBeLessThanOrEqual(760);
    const leftGap = reading.x - column.x;
    const rightGap = column.x + column.width - (reading.x + reading.width);
    expect(Math.abs(leftGap - rightGap)).toBeLessThan(2);
    expect(files.width).toBeGreaterThanOrEqual(280);
  });

  it('widens the files panel by about as far as the separator is dragged, within its limits', async () => {
    const before = await filesWidth(page);
    const handle = await box(separator(page));
    const x = handle.x + handle.width / 2;
    const y = handle.y + Math.min(handle.height / 2, 200);
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x - 60, y, { steps: 4 });
    await page.mouse.move(x - 150, y, { steps: 6 });
    await page.mouse.up();
    const after = await filesWidth(page);
    expect(after - before).toBeGreaterThan(130);
    expect(after - before).toBeLessThan(170);

    // Dragged all the way, the reading column stops at its minimum.
    const now = await box(separator(page));
    await page.mouse.move(now.x + now.width / 2, y);
    await page.mouse.down();
    await page.mouse.move(20, y, { steps: 10 });
    await page.mouse.up();
    const conversation = await box(page.locator('[data-panel]', { has: page.locator('.session-main') }));
    expect(conversation.width).toBeGreaterThanOrEqual(519);
    expect(conversation.width).toBeLessThan(540);
  });

  it('moves with the arrow keys and goes back to the default width on a double-click', async () => {
    await separator(page).dblclick();
    const byDefault = (await box(page.getByTestId('session-layout'))).width * 0.33;
    await expectEventually(async () => Math.abs((await filesWidth(page)) - byDefault) < 6);
    await separator(page).focus();
    const start = await filesWidth(page);
    await page.keyboard.press('ArrowLeft');
    const wider = await filesWidth(page);
    expect(wider).toBeGreaterThan(start + 20);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await filesWidth(page)).toBeLessThan(start - 20);
  });

  it('keeps the split after a reload', async () => {
    await separator(page).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    const chosen = await filesWidth(page);
    expect(Math.abs(chosen - (await box(page.getByTestId('session-layout'))).width * 0.33)).toBeGreaterThan(20);
    await page.reload();
    await open(page);
    expect(Math.abs((await filesWidth(page)) - chosen)).toBeLessThan(3);
  });

  it('still folds the files panel away from its summary', async () => {
    const summary = page.locator('.collab-side > summary');
    await summary.click();
    expect(await page.locator('.collab-side').getAttribute('open')).toBeNull();
    expect(await separator(page).count()).toBe(1);
    await summary.click();
    expect(await page.locator('.collab-side').getAttribute('open')).toBe('');
  });

  it('stacks the files panel below the conversation on a phone, with nothing to drag', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await open(phone);
    expect(await separator(phone).count()).toBe(0);
    // (The conversation's own "turn started" rules are separators too, but none the library draws.)
    expect(await phone.locator('[data-separator]').count()).toBe(0);
    const reading = await box(phone.locator('.session-main'));
    const files = await box(filesColumn(phone));
    expect(files.y).toBeGreaterThanOrEqual(reading.y + reading.height);
    expect(Math.abs(files.width - reading.width)).toBeLessThan(2);
    // Nothing is wider than the phone.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await phone.close();
  });

  it('gives the files panel its usual width when a page opened narrow is widened', async () => {
    const fresh = await browser.newContext({ viewport: { width: 900, height: 800 } });
    const narrow = await fresh.newPage();
    await narrow.goto(`${stack.url}/?token=${stack.token}`);
    await open(narrow);
    expect(await separator(narrow).count()).toBe(0);
    await narrow.setViewportSize({ width: 1440, height: 900 });
    await separator(narrow).waitFor();
    const group = (await box(narrow.getByTestId('session-layout'))).width;
    expect(Math.abs((await filesWidth(narrow)) - group * 0.33)).toBeLessThan(6);
    await fresh.close();
  });
});
