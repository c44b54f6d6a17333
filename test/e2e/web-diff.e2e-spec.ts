import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ItemsAck, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

// Code run in the page is passed as text: the tests compile without the DOM's types.

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const AXE = require.resolve('axe-core/axe.min.js');

/** Two hunks: one line changed near the top, two added further down (one long enough to scroll sideways). */
const TWO_HUNKS = [
  '--- a/src/a.ts',
  '+++ b/src/a.ts',
  '@@ -1,3 +1,3 @@',
  ' import { b } from "./b";',
  '-export const a = 1;',
  '+export const a = 2;',
  ' export const c = 3;',
  '@@ -10,2 +10,4 @@',
  ' function ten() {',
  '+  const message = "a line long enough to need scrolling sideways on a narrow screen, never widening the page";',
  '+  return message;',
  ' }',
  '',
].join('\n');

/** What some harnesses report for a new file: its content, not a unified diff. */
const NEW_FILE = 'export const fresh = true;\n+ not a diff line\n';

/**
 * A file change in a real browser: "Edited src/a.ts +3 −1" on one line, opening onto a diff viewer with old and new
 * line numbers, marked added and removed lines and the hunk headers; text that isn't a unified diff shown as it is.
 */
describe('web UI: file changes in the diff viewer', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let session: Session;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack('embedded');
    const runner = (await stack.connectRawRunner()).socket;
    session = (
      await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title: 'Diff check' })
    ).body;
    const items: Record<string, unknown>[] = [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: 'change a, add fresh' }] },
      { type: 'file_change', path: 'src/a.ts', diff: TWO_HUNKS },
      { type: 'file_change', path: 'src/fresh.ts', diff: NEW_FILE },
      { type: 'agent_message', text: 'Done.' },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ];
    const batch = items.map((item, i) => ({ seq: i + 1, turnId: 't1', createdAt: new Date().toISOString(), ...item }));
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId: session.id, items: batch });
    expect(ack).toEqual({ ok: true, lastSeq: items.length });

    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${stack.url}/?token=${stack.token}`);
    await page.goto(`${stack.url}/session/?id=${session.id}`);
    await page.getByTestId('file-change').first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const change = (path: string) => page.getByTestId('file-change').filter({ hasText: path });

  it('sums up a file change on one line: the path and the lines added and removed, also for screen readers', async () => {
    const summary = change('src/a.ts').locator('summary');
    const stats = summary.getByTestId('diff-stats');
    expect(await stats.locator('[aria-hidden="true"]').innerText()).toBe('+3 −1');
    expect(await stats.locator('.sr-only').textContent()).toBe('3 lines added, 1 removed');
    expect((await summary.locator(':scope > :not(.diff-stats)').allInnerTexts()).join(' ')).toBe('Edited src/a.ts');
    // Content that isn't a diff has no lines to count.
    expect(await change('src/fresh.ts').getByTestId('diff-stats').count()).toBe(0);
  });

  it('opens onto the diff viewer: line numbers, added and removed lines, hunk headers', async () => {
    await change('src/a.ts').locator('summary').click();
    const viewer = change('src/a.ts').locator('[data-testid="diff"][data-view="table"]');
    await viewer.waitFor();
    expect(await viewer.locator('.diff-decoration-content').allTextContents()).toEqual([
      '@@ -1,3 +1,3 @@',
      '@@ -10,2 +10,4 @@',
    ]);
    // Each row: old line number, new line number, the line.
    const rows: string[][] = [];
    for (const tr of await viewer.locator('tr.diff-line').all()) {
      rows.push((await tr.locator('td').allTextContents()).map((t) => t.trim()));
    }
    expect(rows).toEqual([
      ['1', '1', 'import { b } from "./b";'],
      ['2', '', 'export const a = 1;'],
      ['', '2', 'export const a = 2;'],
      ['3', '3', 'export const c = 3;'],
      ['10', '10', 'function ten() {'],
      ['', '11', expect.stringContaining('const message = "a line long enough')],
      ['', '12', 'return message;'],
      ['11', '13', '}'],
    ]);
    expect(await viewer.locator('td.diff-code-delete').allTextContents()).toEqual(['export const a = 1;']);
    expect(await viewer.locator('td.diff-code-insert').count()).toBe(3);
    // Added and removed lines are coloured apart from the rest, and marked + and - for those who can't see colour.
    const look = (type: string) =>
      page.evaluate<[string, string]>(`(() => {
        const td = document.querySelector('[data-view="table"] td.diff-code-${type}');
        return [getComputedStyle(td).backgroundColor, getComputedStyle(td, '::before').content];
      })()`);
    const [added, removed, same] = [await look('insert'), await look('delete'), await look('normal')];
    expect(added[1]).toBe('"+"');
    expect(removed[1]).toBe('"-"');
    expect(new Set([added[0], removed[0], same[0]]).size).toBe(3);
  });

  it('shows text that is not a unified diff as it is', async () => {
    await change('src/fresh.ts').locator('summary').click();
    const plain = change('src/fresh.ts').getByTestId('diff');
    await plain.waitFor();
    // Give the viewer time to load: it must still be the plain view after.
    await change('src/a.ts').locator('[data-view="table"]').waitFor();
    expect(await plain.getAttribute('data-view')).toBe('plain');
    expect(await plain.textContent()).toBe(NEW_FILE);
  });

  it('scrolls long lines inside the diff at 390 px, passes axe, and saves screenshots light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: 900 });
        await page.waitForTimeout(150);
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await change('src/a.ts').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(ARTIFACTS, `diff-${width}-${colorScheme}.png`), fullPage: true });
        if (!(await page.evaluate<boolean>("typeof window.axe !== 'undefined'")))
          await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate<string[]>(`
          window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
            r.violations
              .filter((v) => v.impact === 'serious' || v.impact === 'critical')
              .map((v) => v.id + ': ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')),
          )`);
        expect(violations).toEqual([]);
      }
    }
    // At 390 px the long line overflows the diff's own box, which scrolls.
    expect(
      await page.evaluate<boolean>(
        `(() => { const el = document.querySelector('[data-view="table"]'); return el.scrollWidth > el.clientWidth; })()`,
      ),
    ).toBe(true);
  });
});
