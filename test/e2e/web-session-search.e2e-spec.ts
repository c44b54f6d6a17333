import type { Browser, Page } from 'playwright-core';
import type { Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { attributesOf, launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

/**
 * The session list of an org with more sessions than one page, in a real browser (embedded mode): a search finds a
 * session the loaded page does not hold (the server searches), and the owner archives a session from its page and
 * restores it, the list following.
 */
describe('web UI: searching and archiving sessions', () => {
  let model: FakeModel;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let oldest: Session;

  const rowIds = () => attributesOf(page.getByTestId('session-row'), 'data-session-id');
  const newSession = async (title: string) =>
    (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title })).body;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    oldest = await newSession('Rotate the signing keys');
    // One page of newer sessions (the list loads 50) pushes the first one off the loaded page.
    for (let k = 0; k < 52; k++) await newSession(`routine task ${k}`);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${stack.url}/?token=${stack.token}`);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await model?.close();
  });

  it('finds a session beyond the loaded page by its title', async () => {
    await expectEventually(async () => (await rowIds()).length === 50);
    expect(await rowIds()).not.toContain(oldest.id);

    await page.getByTestId('session-search').fill('SIGNING keys');
    await expectEventually(async () => {
      const ids = await rowIds();
      return ids.length === 1 && ids[0] === oldest.id;
    });
    await page.getByTestId('session-search').fill('routine task 5');
    // "routine task 5" and "routine task 50" and "51": the server's matches, not only the loaded page's.
    await expectEventually(async () => (await rowIds()).length === 3);
    await page.getByTestId('session-search').fill('');
    await expectEventually(async () => (await rowIds()).length >= 50);
  });

  it('archives from the session page and restores; the list hides and shows it', async () => {
    await page.goto(`${stack.url}/session/?id=${oldest.id}`);
    const badge = page.getByTestId('session-status').first();
    await expectEventually(async () => (await badge.getAttribute('data-status')) === 'idle', 30_000);
    await page.getByTestId('archive-button').click();
    await expectEventually(async () => (await badge.getAttribute('data-status')) === 'archived');
    expect(await page.getByTestId('archive-button').textContent()).toBe('Restore');
    expect((await stack.api<Session>('GET', `/sessions/${oldest.id}`)).body.status).toBe('archived');

    await page.goto(`${stack.url}/`);
    await page.getByTestId('session-search').fill('signing');
    await expectEventually(async () => (await page.getByTestId('session-list-empty').count()) === 1);
    await page.getByTestId('show-archived').check();
    await expectEventually(async () => (await rowIds()).join() === oldest.id);

    await page.goto(`${stack.url}/session/?id=${oldest.id}`);
    await page.getByTestId('archive-button').click();
    await expectEventually(async () => (await badge.getAttribute('data-status')) === 'idle');
    expect((await stack.api<Session>('GET', `/sessions/${oldest.id}`)).body.status).toBe('idle');
  });
});
