import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { BudgetList } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { type Stack, startStack } from '../support/stack';

/** Screenshots the run leaves behind (desktop and phone width, light and dark); never committed. */
const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? '/tmp/yoke-e2e-artifacts';

/**
 * The Budgets tab of the admin page in a real browser (team mode): the owner creates an org budget and an agent
 * budget, sees each with its spend bar, changes a cap, and deletes a budget after confirming; at phone width and in
 * dark mode the page still fits.
 */
describe('web UI: monthly budgets', () => {
  let stack: Stack;
  let browser: Browser;

  async function pageAs(token: string, width = 1440, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width, height: 900 }, colorScheme });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(token)});` });
    return ctx.newPage();
  }

  const budgets = async () => (await stack.api<BudgetList>('GET', '/org/budgets')).body.budgets;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack('team');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('creates, lists, edits and deletes (after confirming) budgets', async () => {
    const page = await pageAs(stack.token);
    await page.goto(`${stack.url}/admin/?tab=budgets`);
    const panel = page.getByTestId('budgets-panel');
    await panel.getByText('No budgets.').waitFor();

    await panel.getByTestId('budget-cap').fill('25');
    await panel.getByTestId('budget-alerts').fill('50, 90');
    await panel.getByTestId('budget-create').click();
    await panel.getByTestId('budget').filter({ hasText: 'Whole org' }).waitFor();

    await panel.getByTestId('budget-scope').selectOption('agent');
    await panel.getByTestId('budget-agent').fill('reviewer');
    await panel.getByTestId('budget-cap').fill('0.50');
    await panel.getByTestId('budget-create').click();
    const agent = panel.getByTestId('budget').filter({ hasText: 'Agent: reviewer' });
    await agent.waitFor();
    await expectEventually(async () => (await budgets()).length === 2);
    expect((await budgets()).find((b) => b.scope === 'org')).toMatchObject({
      capMicros: 25_000_000,
      alertAt: [50, 90],
    });
    await expect(agent.getByRole('progressbar').getAttribute('aria-valuenow')).resolves.toBe('0');
    await expect(agent.textContent()).resolves.toContain('$0.00 of $0.50');

    await agent.getByTestId('budget-edit').click();
    await agent.getByTestId('budget-cap').fill('2');
    await agent.getByTestId('budget-save').click();
    await agent.getByText('$0.00 of $2.00').waitFor();

    for (const [width, scheme] of [
      [1440, 'light'],
      [390, 'light'],
      [390, 'dark'],
    ] as const) {
      const p = await pageAs(stack.token, width, scheme);
      await p.goto(`${stack.url}/admin/?tab=budgets`);
      await p.getByTestId('budget').first().waitFor();
      // Nothing wider than the screen.
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      await p.screenshot({ path: join(ARTIFACTS, `budgets-${width}-${scheme}.png`), fullPage: true });
      await p.context().close();
    }

    await agent.getByTestId('budget-delete').click();
    await agent.getByText('Delete this budget?').waitFor();
    expect(await budgets()).toHaveLength(2);
    await agent.getByTestId('budget-delete-confirm').click();
    await expectEventually(async () => (await budgets()).length === 1);
    await panel.getByTestId('budget').filter({ hasText: 'Agent: reviewer' }).waitFor({ state: 'detached' });
  });
});
