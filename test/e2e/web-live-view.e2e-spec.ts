import type { Browser, Page } from 'playwright-core';
import type { Item, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { launchBrowser, attributesOf } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

/** The web UI in a real browser (Debian chromium) against a real server, runner and harness (embedded mode). */
describe('web UI: session list and live session view', () => {
  let model: FakeModel;
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // The link `yoke start` prints: it sets the local user's cookie and drops the secret from the address.
    await page.goto(`${stack.url}/?token=${stack.token}`);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await model?.close();
  });

  it('streams text and shows tool calls live in an open session view, in REST order, each message once', async () => {
    model.script([
      {
        match: 'BROWSER',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo from-the-shell' } }] },
          { holdUntil: 'browser-mid', text: 'All done: the shell said from-the-shell.' },
        ],
      },
    ]);
    const s = (
      await stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Browser run',
      })
    ).body;
    await page.goto(`${stack.url}/session/?id=${s.id}`);
    await page.getByTestId('composer-input').waitFor();

    // The prompt is sent after the page is open: everything must arrive live, without a reload.
    expect((await stack.api('POST', `/sessions/${s.id}/messages`, { text: 'BROWSER go' })).status).toBe(202);
    await page.getByTestId('tool-kind').first().waitFor();
    expect(await page.getByTestId('tool-kind').first().getAttribute('data-tool')).toBe('shell');
    await page.getByText('from-the-shell').first().waitFor();
    model.release('browser-mid');
    await page.getByText('All done: the shell said from-the-shell.').waitFor();
    await expectEventually(async () => (await page.getByTestId('session-status').textContent())?.includes('idle'));

    const history = (await stack.api<{ items: Item[] }>('GET', `/sessions/${s.id}/items`)).body.items;
    // Every item once, rows in REST order (a tool action's row holds its call, command and result; allowed policy
    // decisions show once asked for).
    if (await page.getByTestId('show-allowed').count()) await page.getByTestId('show-allowed').check();
    const rows = (await attributesOf(page.getByTestId('item'), 'data-seqs')).map((v) =>
      (v ?? '').split(' ').map(Number),
    );
    const firsts = rows.map((r) => r[0]);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(rows.flat().sort((a, b) => a - b)).toEqual(history.map((i) => i.seq));
    expect(await page.getByText('All done: the shell said from-the-shell.').count()).toBe(1);
    expect(await page.getByTestId('tool-action').first().getAttribute('data-state')).toBe('ok');
    expect(await page.getByTestId('exit-code').first().getAttribute('data-exit-code')).toBe('0');
    await page.screenshot({ path: '/tmp/yoke-session-view.png', fullPage: true });
  });

  it('lists sessions live: a new session appears without reloading', async () => {
    await page.goto(`${stack.url}/`);
    await page.getByTestId('session-row').first().waitFor();
    const before = await page.getByTestId('session-row').count();
    model.script([{ match: 'LISTED', steps: [{ text: 'ok' }] }]);
    await stack.api('POST', '/sessions', {
      agentYaml: AGENT,
      prompt: 'LISTED',
      title: 'Appears live',
      workspace: tempDir('ws'),
    });
    await page.getByText('Appears live').waitFor();
    expect(await page.getByTestId('session-row').count()).toBe(before + 1);
  });
});
