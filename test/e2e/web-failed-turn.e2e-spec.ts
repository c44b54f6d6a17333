import type { Browser, Page } from 'playwright-core';
import type { Item, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { freePort, tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const PARTIAL = 'Here is the first half of the answer, and then';
const ANSWER = 'The whole answer, this time.';

/**
 * A turn whose model call fails, in a real browser against a real server, runner and harness (embedded mode): what
 * had streamed stays (also after a reload), the failure reads as a sentence with the raw error one click away, and
 * Retry sends the turn's prompt again.
 */
describe('web UI: a failed turn', () => {
  let model: FakeModel;
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  const items = async (id: string) => (await stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items`)).body.items;
  const newSession = async (title: string, runnerId?: string) =>
    (
      await stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title,
        ...(runnerId ? { runnerId } : {}),
      })
    ).body;
  const status = async () => (await page.getByTestId('session-status').textContent()) ?? '';

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${stack.url}/?token=${stack.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await model?.close();
  });

  it('keeps the partial answer, says what went wrong with the detail on expand, and Retry runs the prompt again', async () => {
    model.script([
      {
        match: 'FLAKY',
        steps: [
          {
            text: PARTIAL,
            chunks: 4,
            chunkIntervalMs: 30,
            error: { status: 200, message: 'the model service broke off the answer', inStream: true },
          },
        ],
      },
    ]);
    const s = await newSession('Flaky model');
    await page.goto(`${stack.url}/session/?id=${s.id}`);
    await page.getByTestId('composer-input').waitFor();
    expect((await stack.api('POST', `/sessions/${s.id}/messages`, { text: 'FLAKY explain' })).status).toBe(202);

    const failed = page.getByTestId('turn-failed');
    await failed.waitFor();
    const checkFailedTurn = async () => {
      await expectEventually(async () => (await status()).includes('failed'));
      // The text that streamed before the failure is still there, once, marked as cut off.
      const bubbles = page.getByTestId('message-bubble').filter({ hasText: PARTIAL });
      await bubbles.first().waitFor();
      expect(await bubbles.count()).toBe(1);
      expect(await page.getByTestId('partial-mark').count()).toBe(1);
      expect(await page.getByTestId('partial-mark').textContent()).toBe('Incomplete: the turn failed here');
      // A sentence first; the provider's words only once the detail is opened.
      expect(await failed.getAttribute('data-kind')).toBe('provider');
      expect(await page.getByTestId('turn-failed-sentence').textContent()).toBe(
        'The model provider had an error on its side.',
      );
      expect(await page.locator('body').innerText()).not.toContain('broke off');
      expect(await page.getByTestId('turn-failed-detail').isVisible()).toBe(false);
      await failed.getByText('Details').click();
      expect(await page.getByTestId('turn-failed-detail').isVisible()).toBe(true);
      expect(await page.getByTestId('turn-failed-detail').textContent()).toContain(
        'the model service broke off the answer',
      );
    };
    await checkFailedTurn();

    // The runner recorded the text as a partial message of that turn, just before the failure.
    const log = await items(s.id);
    const partials = log.filter((i) => i.type === 'agent_message');
    expect(partials).toEqual([expect.objectContaining({ text: PARTIAL, partial: true })]);
    expect(log.at(-1)?.type).toBe('turn_failed');
    expect(log.indexOf(partials[0])).toBeLessThan(log.length - 1);

    await page.reload();
    await failed.waitFor();
    await checkFailedTurn();

    // Retry while the server cannot be reached: the error shows inline and nothing is sent.
    model.script([{ match: 'FLAKY', steps: [{ text: ANSWER }] }]);
    const retry = page.getByTestId('retry-turn');
    await page.context().setOffline(true);
    await retry.click();
    await page.getByTestId('retry-error').waitFor();
    expect(await page.getByTestId('retry-error').textContent()).toBe('The server could not be reached.');
    expect(await retry.isEnabled()).toBe(true);
    await page.context().setOffline(false);

    // Retry again: the button is disabled while the message is on its way (held here until checked).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/v1/sessions/*/messages', async (route) => {
      await held;
      await route.continue();
    });
    await retry.click();
    await expectEventually(async () => (await retry.isDisabled()) && (await retry.textContent()) === 'Sending…');
    release();
    await page.getByTestId('retry-note').waitFor();
    expect(await page.getByTestId('retry-error').count()).toBe(0);
    await page.unroute('**/api/v1/sessions/*/messages');

    // The same prompt ran as a new turn, which completed with its answer.
    await page.getByText(ANSWER).waitFor({ timeout: 30_000 });
    await expectEventually(async () => (await status()).includes('idle'));
    const after = await items(s.id);
    const prompts = after.filter((i) => i.type === 'user_message');
    expect(prompts.map((p) => p.content)).toEqual([
      [{ type: 'text', text: 'FLAKY explain' }],
      [{ type: 'text', text: 'FLAKY explain' }],
    ]);
    expect(prompts[1].turnId).not.toBe(prompts[0].turnId);
    expect(after.at(-1)).toMatchObject({ type: 'turn_completed', stopReason: 'end_turn', turnId: prompts[1].turnId });
    expect(await page.getByTestId('turn-failed').count()).toBe(1);
  });

  it('a provider that refuses connections reads "could not reach", the raw error only in the detail', async () => {
    // A runner whose model provider is a port nothing listens on.
    const dead = await stack.startRunner({
      env: { ANTHROPIC_BASE_URL: `http://127.0.0.1:${await freePort()}`, ANTHROPIC_API_KEY: 'k' },
    });
    const s = await newSession('Provider down', dead.runnerId);
    await page.goto(`${stack.url}/session/?id=${s.id}`);
    await page.getByTestId('composer-input').waitFor();
    expect((await stack.api('POST', `/sessions/${s.id}/messages`, { text: 'anyone there?' })).status).toBe(202);

    const failed = page.getByTestId('turn-failed');
    await failed.waitFor({ timeout: 30_000 });
    expect(await failed.getAttribute('data-kind')).toBe('unreachable');
    expect(await page.getByTestId('turn-failed-sentence').textContent()).toBe(
      'Yoke could not reach the model provider.',
    );
    // Nowhere on the page at first sight (the header says the sentence too).
    await expectEventually(async () => (await page.getByTestId('session-status').textContent())?.includes('failed'));
    expect(await page.locator('body').innerText()).not.toMatch(/ECONNREFUSED|cannot reach/);
    await failed.getByText('Details').click();
    expect(await page.getByTestId('turn-failed-detail').textContent()).toContain('ECONNREFUSED');
    // Nothing streamed, so there is no partial answer to keep.
    expect(await page.getByTestId('partial-mark').count()).toBe(0);
    expect((await items(s.id)).some((i) => i.type === 'agent_message')).toBe(false);
  });
});
