import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LibraryAgentList, LibraryAgentVersionList, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/** Screenshots the run leaves behind (desktop and phone width); the folder is ignored by git. */
const ARTIFACTS = join(__dirname, '..', 'artifacts');

const BROKEN = 'name: pasted\nprompt: You help.\nharnes: yoke\nmodel: claude-sonnet-4-5\n';
const FIXED = 'name: pasted\nprompt: You help.\nharness: yoke\nmodel: claude-sonnet-4-5\n';
const SAVED = 'name: saved-helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const SAVED_V2 = 'name: saved-helper\nprompt: You help, briefly.\nmodel: claude-sonnet-4-5\n';

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/** The test id of the focused element (the button that opened the dialog, once it closes). */
function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid') ?? null");
}

function isFocusInDialog(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(
    "document.querySelector('[data-testid=new-session-dialog]').contains(document.activeElement)",
  );
}

/**
 * Starting work from the browser (embedded mode): the New session dialog against a real server, runner, harness and
 * the fake model, in a real browser (Debian chromium). Pasted YAML is checked before submit, a pasted agent is saved
 * to the org's library and edited into a new version, and each new session opens and streams its answer.
 */
describe('web UI: New session', () => {
  let model: FakeModel;
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    model = await startFakeModel();
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${stack.url}/?token=${stack.token}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await model?.close();
  });

  it('starts from pasted YAML: problems show beside the editor, the fixed agent runs and its answer streams in', async () => {
    model.script([{ match: 'FIRST', steps: [{ text: 'Hello from the pasted agent.' }] }]);
    // The empty list sends you to the dialog, not to the CLI.
    await page.getByTestId('new-session-empty').click({ timeout: 15_000 });
    const dialog = page.getByRole('dialog', { name: 'New session' });
    await dialog.waitFor();

    await page.getByTestId('ns-agent').selectOption('paste');
    await page.getByTestId('ns-yaml').fill(BROKEN);
    const issues = page.getByTestId('ns-yaml-issues');
    await issues.waitFor();
    expect(await issues.textContent()).toMatch(/Line 3:1/);
    expect(await page.getByTestId('ns-yaml').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('ns-submit').isDisabled()).toBe(true);
    await shoot(page, 'new-session-invalid');

    await page.getByTestId('ns-yaml').fill(FIXED);
    await expect(page.getByTestId('ns-agent-ok').textContent()).resolves.toContain('pasted');
    expect(await issues.count()).toBe(0);
    // The runner picker names each runner with its state.
    await page.getByTestId('ns-runner').selectOption({ label: 'test-runner · online' });
    await page.getByTestId('ns-workspace').fill(tempDir('ws'));
    await page.getByTestId('ns-prompt').fill('FIRST say hello');
    await page.getByTestId('ns-submit').click();

    await page.waitForURL(/\/session\/\?id=/);
    await page.getByText('Hello from the pasted agent.').first().waitFor({ timeout: 30_000 });
    const id = new URL(page.url()).searchParams.get('id')!;
    const session = (await stack.api<Session>('GET', `/sessions/${id}`)).body;
    expect(session).toMatchObject({ agent: { name: 'pasted' }, harness: 'yoke', title: 'FIRST say hello' });
  });

  it('saves a pasted agent to the library, edits it into version 2, and starts from the saved agent', async () => {
    model.script([{ match: 'SECOND', steps: [{ text: 'Answer from the saved agent.' }] }]);
    await page.goto(`${stack.url}/`);

    // The header button opens the dialog; Esc closes it and focus returns to the button; focus stays inside.
    const open = page.getByTestId('new-session-button');
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'New session' });
    await dialog.waitFor();
    await page.getByTestId('ns-agent').waitFor();
    for (let i = 0; i < 20; i++) await page.keyboard.press('Tab');
    expect(await isFocusInDialog(page)).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expectEventually(async () => (await focusedTestId(page)) === 'new-session-button', 5_000);

    // Anything can open it with a window event (the command palette does).
    await page.evaluate("window.dispatchEvent(new CustomEvent('yoke:new-session'))");
    await dialog.waitFor();
    await page.getByTestId('ns-agent').selectOption('paste');
    await page.getByTestId('ns-yaml').fill(SAVED);
    await page.getByTestId('ns-agent-ok').waitFor();
    await page.getByTestId('ns-save-agent').click();

    const picked = page.getByTestId('ns-agent').locator('option:checked');
    await expectEventually(async () => (await picked.textContent()) === 'saved-helper · v1');
    const library = (await stack.api<LibraryAgentList>('GET', '/agents')).body.agents;
    expect(library.map((a) => [a.name, a.version])).toEqual([['saved-helper', 1]]);
    const agentId = library[0].id;

    // Editing the saved agent and saving makes version 2; the picker shows it.
    await page.getByTestId('ns-yaml').fill(SAVED_V2);
    await expect(page.getByTestId('ns-save-version').textContent()).resolves.toBe('Save as version 2');
    await page.getByTestId('ns-agent-ok').waitFor();
    await page.getByTestId('ns-save-version').click();
    await expectEventually(async () => (await picked.textContent()) === 'saved-helper · v2');
    const versions = (await stack.api<LibraryAgentVersionList>('GET', `/agents/${agentId}/versions`)).body.versions;
    expect(versions.map((v) => [v.version, v.yaml])).toEqual([
      [2, SAVED_V2],
      [1, SAVED],
    ]);

    await page.getByTestId('ns-workspace').fill(tempDir('ws'));
    await page.getByTestId('ns-prompt').fill('SECOND what can you do?');
    await shoot(page, 'new-session-saved');
    await page.getByTestId('ns-submit').click();
    await page.waitForURL(/\/session\/\?id=/);
    await page.getByText('Answer from the saved agent.').first().waitFor({ timeout: 30_000 });
    const id = new URL(page.url()).searchParams.get('id')!;
    const session = (await stack.api<Session>('GET', `/sessions/${id}`)).body;
    expect(session.agent).toMatchObject({ name: 'saved-helper', prompt: 'You help, briefly.' });
  });
});
