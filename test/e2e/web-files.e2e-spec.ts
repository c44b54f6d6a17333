import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { Item, Session, WorkspaceFile, WorkspaceListing } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, startCollabStack } from './collab-support';

// Code run in the page is passed as text: the tests compile without the DOM's types.

const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? join(__dirname, '..', 'artifacts');
const APP_TS = [
  "import { readFile } from 'node:fs/promises';",
  '',
  '/** Reads the config. */',
  'export async function load(path: string): Promise<string> {',
  "  const text = await readFile(path, 'utf8');",
  '  return text.trim();',
  '}',
  '',
].join('\n');

/** The parts of the page's DOM the code evaluated there uses (the test program is not typed against the DOM). */
type Rect = { top: number; height: number };
type RowElement = {
  getBoundingClientRect(): Rect;
  querySelector(selector: string): RowElement;
  textContent: string | null;
};
type PageGlobals = {
  document: { createRange(): { selectNodeContents(node: RowElement): void; getBoundingClientRect(): Rect } };
  getComputedStyle(el: unknown): { getPropertyValue(name: string): string };
};

/** A computed style property of the element `locator` matches. */
function styleOf(locator: Locator, property: 'opacity' | 'font-size'): Promise<string> {
  return locator.evaluate(
    (e, p) => (globalThis as unknown as PageGlobals).getComputedStyle(e).getPropertyValue(p),
    property,
  );
}

/**
 * The files panel and fork in a real browser against a real server, runner and harness (the fake model scripts the
 * agent): files written during a turn appear live; the viewer highlights code on single-spaced, numbered rows with a
 * "+" on hover to comment; comments are markdown; folders count the comments inside; a fork gets the workspace.
 */
describe('web UI: workspace files, comments and fork', () => {
  let c: CollabStack;
  let browser: Browser;
  let page: Page;
  let session: Session;
  let workspace: string;

  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
      cwd: workspace,
      encoding: 'utf8',
    }).trim();
  const entry = (p: Page, path: string) => p.locator(`[data-testid="file-entry"][data-path="${path}"]`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    c = await startCollabStack();
    // A git project with one commit; the agent then adds an uncommitted file during a turn.
    workspace = tempDir('files-ws');
    mkdirSync(join(workspace, 'src'));
    writeFileSync(join(workspace, 'README.md'), '# Config loader\n');
    writeFileSync(join(workspace, 'src', 'app.ts'), APP_TS);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    c.model.script([
      {
        match: 'WRITE',
        steps: [
          {
            toolCalls: [
              { name: 'write_file', input: { path: 'notes/plan.md', content: '# Plan\n\n- load it\n' } },
              { name: 'write_file', input: { path: 'README.md', content: '# Config loader\n\nSee notes/plan.md.\n' } },
            ],
          },
          { holdUntil: 'after-write', text: 'Wrote the plan.' },
        ],
      },
    ]);
    session = (await c.stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace, title: 'Files check' }))
      .body;
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(c.stack.token)});` });
    page = await ctx.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  });

  it('files the agent writes during a live turn appear in the panel, and the open file updates, without a reload', async () => {
    await page.goto(`${c.stack.url}/session/?id=${session.id}`);
    await entry(page, 'README.md').click();
    const readme = page.locator('[data-testid="file-view"][data-path="README.md"]');
    await readme.locator('[data-testid="code-line"][data-line="1"]').waitFor();
    expect(await readme.getByTestId('line-text').allTextContents()).toEqual(['# Config loader']);
    expect(await entry(page, 'notes').count()).toBe(0);
    await page.evaluate('window.__sameDocument = true');

    await page.getByTestId('composer-input').fill('WRITE the plan');
    await page.getByTestId('composer-send').click();
    // The turn is still running (the model's next answer is held) when the new folder shows.
    await c.model.waitForHold('after-write');
    await entry(page, 'notes').waitFor({ timeout: 20_000 });
    await readme.locator('[data-testid="code-line"][data-line="3"]').waitFor();
    expect(await readme.getByTestId('line-text').allTextContents()).toEqual([
      '# Config loader',
      '',
      'See notes/plan.md.',
    ]);
    expect(await page.locator('[data-testid="session-status"]').getAttribute('data-status')).toBe('running');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);

    c.model.release('after-write');
    await page.getByText('Wrote the plan.').waitFor();
    await expectEventually(
      async () => (await page.getByTestId('session-status').getAttribute('data-status')) === 'idle',
    );
  });

  it('folders use SVG icons, not an emoji font', async () => {
    const folder = entry(page, 'src');
    expect(await folder.getAttribute('data-kind')).toBe('dir');
    expect(await folder.locator('svg[data-icon="folder"]').count()).toBe(1);
    expect(await entry(page, 'README.md').locator('svg[data-icon="file"]').count()).toBe(1);
    expect(/\p{Extended_Pictographic}/u.test((await page.getByTestId('file-list').textContent()) ?? '')).toBe(false);
  });

  it('the viewer highlights code on single-spaced rows, each line number level with its code', async () => {
    await entry(page, 'src').click();
    await entry(page, 'src/app.ts').click();
    const view = page.locator('[data-testid="file-view"][data-path="src/app.ts"]');
    await view.waitFor();
    const lines = APP_TS.replace(/\n$/, '').split('\n');
    expect(await view.getByTestId('code-line').count()).toBe(lines.length);
    expect(await view.getByTestId('line-text').allTextContents()).toEqual(lines);

    // Highlighted by highlight.js, loaded on first use: the plain text shows first, then keywords, strings and the
    // comment carry its classes.
    await view.locator('.hljs-keyword').first().waitFor();
    expect(await view.locator('.hljs-keyword').count()).toBeGreaterThan(3);
    expect(await view.locator('.hljs-keyword').first().textContent()).toBe('import');
    expect(await view.locator('.hljs-string').first().textContent()).toBe("'node:fs/promises'");
    const comment = view.locator('[data-testid="code-line"][data-line="3"] .hljs-comment');
    expect((await comment.allTextContents()).join('')).toBe('/** Reads the config. */');

    const boxes = await view.getByTestId('code-row').evaluateAll((rows) =>
      (rows as unknown as RowElement[]).map((r) => {
        const box = r.getBoundingClientRect();
        const no = r.querySelector('[data-testid="line-number"]');
        const text = r.querySelector('[data-testid="line-text"]');
        // The text's own box (its glyphs), not the element's: an empty line falls back to the element.
        const range = (globalThis as unknown as PageGlobals).document.createRange();
        range.selectNodeContents(text);
        const t = text.textContent ? range.getBoundingClientRect() : text.getBoundingClientRect();
        const n = no.getBoundingClientRect();
        return {
          top: box.top,
          height: box.height,
          numberMid: n.top + n.height / 2,
          textMid: t.top + t.height / 2,
          number: no.textContent ?? '',
        };
      }),
    );
    const fontSize = Number.parseFloat(await styleOf(view.getByTestId('line-text').first(), 'font-size'));
    boxes.forEach((b, i) => {
      expect(b.number).toBe(String(i + 1));
      // Single-spaced: one line of text per row (at most 1.6 × the font size), rows back to back.
      expect(b.height).toBeLessThanOrEqual(fontSize * 1.6);
      expect(b.height).toBe(boxes[0].height);
      if (i > 0) expect(b.top - boxes[i - 1].top).toBeCloseTo(b.height, 0);
      // The number sits on the same line as its code.
      expect(Math.abs(b.numberMid - b.textMid)).toBeLessThanOrEqual(1);
    });
    await page.screenshot({ path: join(ARTIFACTS, 'files-viewer-desktop.png'), fullPage: true });
  });

  it('hovering a line shows a "+"; a comment is rendered as markdown, never as HTML', async () => {
    const line = page.locator('[data-testid="code-line"][data-line="5"]');
    const plus = line.getByTestId('line-comment');
    const opacity = () => styleOf(plus, 'opacity');
    await page.mouse.move(0, 0);
    expect(await opacity()).toBe('0');
    await line.getByTestId('code-row').hover();
    expect(await opacity()).toBe('1');
    expect(await plus.getAttribute('aria-label')).toBe('Comment on line 5');
    await plus.click();

    await page
      .getByTestId('comment-input')
      .fill('Use **const** and `trim()` here <img src=x onerror="window.__pwned=1">');
    await page.getByTestId('comment-submit').click();
    const body = line.getByTestId('comment-thread').getByTestId('comment-body');
    await body.waitFor();
    expect(await body.locator('strong').textContent()).toBe('const');
    expect(await body.locator('code').textContent()).toBe('trim()');
    expect(await body.locator('img').count()).toBe(0);
    expect(await body.textContent()).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  });

  it('a folder shows the count of open comment threads inside it', async () => {
    await page.getByRole('button', { name: 'Up one folder' }).click();
    const folderRow = page.locator('[data-testid="file-list"] li', { has: entry(page, 'src') });
    await folderRow.getByTestId('folder-comment-count').waitFor();
    expect(await folderRow.getByTestId('folder-comment-count').textContent()).toBe('1');
    expect(await folderRow.getByTestId('folder-comment-count').getAttribute('title')).toBe(
      '1 open comment thread inside',
    );
    // Folders without comments say nothing.
    const notes = page.locator('[data-testid="file-list"] li', { has: entry(page, 'notes') });
    expect(await notes.getByTestId('folder-comment-count').count()).toBe(0);
  });

  it("a fork gets the original's workspace on its own git branch, and the dialog says so first", async () => {
    const items = (await c.stack.api<{ items: Item[] }>('GET', `/sessions/${session.id}/items`)).body.items;
    const answer = items.find((i) => i.type === 'agent_message' && JSON.stringify(i).includes('Wrote the plan.'))!;
    await page.locator(`[data-testid="item"][data-seq="${answer.seq}"] [data-testid="fork-here"]`).click();
    const dialog = page.getByTestId('fork-dialog');
    await dialog.getByRole('heading', { name: `Fork from #${answer.seq}` }).waitFor();
    // The item is named the way the timeline numbers it.
    expect(
      await page.locator(`[data-testid="item"][data-seq="${answer.seq}"] [data-testid="item-no"]`).textContent(),
    ).toBe(`#${answer.seq}`);
    const note = dialog.locator('[data-testid="fork-workspace"][data-copy="git"]');
    await note.waitFor();
    expect(await note.textContent()).toContain('its own clone on a branch of its own');
    const listed = await note.getByTestId('fork-workspace-entries').locator('li').allTextContents();
    expect(listed.map((t) => t.trim())).toEqual(['notes/', 'src/', 'README.md']);
    await page.screenshot({ path: join(ARTIFACTS, 'fork-dialog-desktop.png') });
    await dialog.getByTestId('fork-submit').click();

    await page.getByTestId('forked-from').waitFor();
    const forkId = new URL(page.url()).searchParams.get('id')!;
    expect(forkId).not.toBe(session.id);
    // The fork's panel lists the original's files, the agent's uncommitted one included.
    for (const path of ['README.md', 'src', 'notes']) await entry(page, path).waitFor();
    const note2 = page.getByText(/workspace copied from the original session .* on its own git branch yoke\/fork-/);
    await note2.waitFor();
    const read = async (path: string) =>
      (await c.stack.api<WorkspaceFile>('GET', `/sessions/${forkId}/files/content?path=${encodeURIComponent(path)}`))
        .body.content;
    expect(await read('src/app.ts')).toBe(APP_TS);
    expect(await read('notes/plan.md')).toBe('# Plan\n\n- load it\n');
    const root = (await c.stack.api<WorkspaceListing>('GET', `/sessions/${forkId}/files?path=`)).body;
    expect(root.isGitRepo).toBe(true);
    // The original keeps its own branch and files.
    expect(git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(git('status', '--porcelain')).toBe('M README.md\n?? notes/');
  });

  it('only someone who can see a session can fork it (and so copy its workspace)', async () => {
    const stranger = await c.addMember('Stranger');
    const refused = await c.stack.api<{ code: string }>(
      'POST',
      `/sessions/${session.id}/fork`,
      { seq: 1 },
      stranger.token,
    );
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('session.not_found');
  });
});
