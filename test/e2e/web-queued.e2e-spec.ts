import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Item, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, type Member, startCollabStack } from './collab-support';

/** Screenshots the run leaves behind (desktop and phone width); the folder is ignored by git. */
const ARTIFACTS = join(__dirname, '..', 'artifacts');

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/**
 * Prompts sent while the session's runner is away wait at the end of the timeline, for every viewer, saying why:
 * the owner cancels one (no question asked), a viewer sees it go and has no Cancel; when the runner is back only the
 * other is delivered and answered. A revoked runner is named as such and the composer says so before anything is
 * sent. Real server, runner, fake model and browser (Debian chromium), team mode.
 */
describe('web UI: queued prompts', () => {
  let browser: Browser;
  let c: CollabStack;
  let vera: Member;
  let owner: Page;
  let viewer: Page;
  let session: Session;

  async function pageAs(token: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(token)});` });
    return ctx.newPage();
  }

  async function itemsOf(id: string): Promise<Item[]> {
    return (await c.stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items`)).body.items;
  }

  /** The queued prompts a page shows: text and reason, in order (read in one go: rows come and go live). */
  function queued(page: Page): Promise<string[][]> {
    return page.evaluate<string[][]>(
      `[...document.querySelectorAll('[data-testid="queued-prompt"]')].map((row) => [
        row.querySelector('.user-text')?.textContent ?? '',
        row.querySelector('[data-testid="queued-reason"]')?.textContent ?? '',
      ])`,
    );
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByTestId('composer-input').fill(text);
    await page.getByTestId('composer-send').click();
    await expectEventually(async () => (await page.getByTestId('composer-input').inputValue()) === '');
  }

  async function runnerOnline(online: boolean): Promise<void> {
    await expectEventually(
      async () => (await c.stack.api<Session>('GET', `/sessions/${session.id}`)).body.runnerOnline === online,
      30_000,
    );
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchBrowser();
    c = await startCollabStack();
    vera = await c.addMember('Vera');
    c.model.script([
      { match: 'FIRST', steps: [{ text: 'First answered.' }] },
      { match: 'KEEP', steps: [{ text: 'The kept prompt is answered.' }] },
      { match: 'DROP', steps: [{ text: 'The cancelled prompt must never be answered.' }] },
    ]);
    session = (
      await c.stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Queued prompts',
        prompt: 'FIRST',
      })
    ).body;
    await expectEventually(async () => (await itemsOf(session.id)).some((i) => i.type === 'turn_completed'), 60_000);
    const invited = await c.stack.api('POST', `/sessions/${session.id}/shares/invites`, {
      userId: vera.userId,
      role: 'viewer',
    });
    expect(invited.status).toBe(201);
    owner = await pageAs(c.stack.token);
    viewer = await pageAs(vera.token);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  });

  it('with the runner offline both prompts wait, one is cancelled, and only the other is delivered and answered', async () => {
    for (const page of [owner, viewer]) {
      await page.goto(`${c.stack.url}/session/?id=${session.id}`);
      await page.getByText('First answered.').waitFor();
    }
    await c.runner.proc.kill('SIGTERM');
    await runnerOnline(false);
    await owner.locator('[data-testid="runner-state"][data-online="false"]').waitFor();

    await send(owner, 'KEEP this prompt');
    await send(owner, 'DROP this prompt');
    const offline = 'Queued: the runner test-runner is offline';
    const both = [
      ['KEEP this prompt', offline],
      ['DROP this prompt', offline],
    ];
    await expectEventually(async () => JSON.stringify(await queued(owner)) === JSON.stringify(both));
    // Every viewer sees them live; only whoever may drive gets Cancel.
    await expectEventually(async () => JSON.stringify(await queued(viewer)) === JSON.stringify(both));
    expect(await viewer.getByTestId('queued-cancel').count()).toBe(0);
    // They are not in the session's log (nothing was delivered).
    expect((await itemsOf(session.id)).filter((i) => i.type === 'user_message')).toHaveLength(1);
    await shoot(owner, 'queued-prompts-offline');

    // Cancel asks nothing: the prompt is gone at once, for the owner and the viewer.
    await owner
      .getByTestId('queued-prompt')
      .filter({ hasText: 'DROP this prompt' })
      .getByTestId('queued-cancel')
      .click();
    const kept = [['KEEP this prompt', offline]];
    await expectEventually(async () => JSON.stringify(await queued(owner)) === JSON.stringify(kept));
    await expectEventually(async () => JSON.stringify(await queued(viewer)) === JSON.stringify(kept));
    expect(await owner.getByRole('alertdialog').count()).toBe(0);
    expect(await owner.getByTestId('queued-notice').textContent()).toBe('Prompt cancelled: it will not be sent.');

    // The runner is back: the kept prompt leaves the queue, enters the log and is answered; the other never goes.
    await c.runner.restart();
    await owner.getByText('The kept prompt is answered.').waitFor({ timeout: 60_000 });
    await viewer.getByText('The kept prompt is answered.').waitFor({ timeout: 60_000 });
    await expectEventually(async () => (await owner.getByTestId('queued-prompt').count()) === 0);
    await expectEventually(async () => (await viewer.getByTestId('queued-prompt').count()) === 0);
    const prompts = (await itemsOf(session.id)).flatMap((i) =>
      i.type === 'user_message' && i.content[0]?.type === 'text' ? [i.content[0].text] : [],
    );
    expect(prompts).toEqual(['FIRST', 'KEEP this prompt']);
    const seen = c.model.requests.map((r) => JSON.stringify(r.body)).join('\n');
    expect(seen).toContain('KEEP this prompt');
    expect(seen).not.toContain('DROP this prompt');
    expect(await owner.getByText('The cancelled prompt must never be answered.').count()).toBe(0);
  });

  it('a revoked runner is named: its waiting prompt will not be delivered, and the composer says so before sending', async () => {
    await c.runner.proc.kill('SIGTERM');
    await runnerOnline(false);
    await send(owner, 'LATE prompt');
    await expectEventually(
      async () =>
        JSON.stringify(await queued(owner)) ===
        JSON.stringify([['LATE prompt', 'Queued: the runner test-runner is offline']]),
    );
    expect((await c.stack.api('DELETE', `/runners/${c.runner.runnerId}`)).status).toBe(204);

    // Live: the runner was already offline (no socket to close), and the open page still learns it was revoked.
    await owner.locator('[data-testid="runner-state"][data-revoked="true"]').waitFor();
    await expectEventually(
      async () =>
        JSON.stringify(await queued(owner)) ===
        JSON.stringify([['LATE prompt', 'Not delivered: the runner test-runner was revoked']]),
    );
    expect(await owner.getByTestId('composer-runner-revoked').textContent()).toBe(
      'The runner test-runner was revoked: a prompt sent here would never be delivered. Fork the session to go on with another runner.',
    );
    await owner.getByTestId('composer-input').fill('Another prompt');
    expect(await owner.getByTestId('composer-send').isDisabled()).toBe(true);
    await shoot(owner, 'queued-prompts-revoked');

    // Cancel still clears a prompt that can never go.
    await owner.getByTestId('queued-cancel').click();
    await expectEventually(async () => (await owner.getByTestId('queued-prompt').count()) === 0);
  });
});
