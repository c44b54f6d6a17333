import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Item, Session } from '@yoke/protocol';
import { launchBrowser, attributesOf } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, type Member, startCollabStack } from './collab-support';

/** Screenshots the run leaves behind (desktop and phone width). */
const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? '/tmp/yoke-e2e-artifacts';
const POLICIES = '- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n';

/**
 * Collaboration in real browsers (Debian chromium): the owner, a viewer (Carol) and a driver (Bob), each an org
 * member in their own browser context, sharing one live session against a real server, runner and harness.
 */
describe('web UI: shared live session', () => {
  let c: CollabStack;
  let browser: Browser;
  let bob: Member;
  let carol: Member;
  let owner: Page;
  let bobPage: Page;
  let carolPage: Page;
  let session: Session;
  let viewerLinkId = '';
  let viewerLinkUrl = '';
  let guestPage: Page;

  async function pageAs(token: string, width = 1200): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(token)});` });
    return ctx.newPage();
  }

  async function items(): Promise<Item[]> {
    return (await c.stack.api<{ items: Item[] }>('GET', `/sessions/${session.id}/items`)).body.items;
  }

  /**
   * Every item shown, once each: rows in seq order, a tool action's row holding its call, command and result (and
   * allowed policy decisions shown once asked for).
   */
  async function shownSeqs(page: Page): Promise<number[]> {
    if (await page.getByTestId('show-allowed').count()) await page.getByTestId('show-allowed').check();
    const rows = (await attributesOf(page.getByTestId('item'), 'data-seqs')).map((v) =>
      (v ?? '').split(' ').map(Number),
    );
    const firsts = rows.map((r) => r[0]);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    return rows.flat().sort((a, b) => a - b);
  }

  async function createLink(role: string): Promise<string> {
    await owner.getByTestId('share-button').click();
    await owner.getByTestId('link-role').selectOption(role);
    await owner.getByTestId('link-create').click();
    const url = await owner.getByTestId('link-url').inputValue();
    await owner.keyboard.press('Escape');
    return url;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    c = await startCollabStack();
    bob = await c.addMember('Bob');
    carol = await c.addMember('Carol');
    c.model.script([
      { match: 'HELLO', steps: [{ text: 'Hello everyone, this reply streams live.' }] },
      {
        match: 'WRITE',
        steps: [
          { toolCalls: [{ name: 'write_file', input: { path: 'out.txt', content: 'first line\nsecond line\n' } }] },
          { text: 'Wrote out.txt for Bob.' },
        ],
      },
      {
        match: 'SHELL',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo approved-run' } }] }, { text: 'Shell done.' }],
      },
    ]);
    session = (
      await c.stack.api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        title: 'Pairing session',
        policiesYaml: POLICIES,
      })
    ).body;
    browser = await launchBrowser();
    owner = await pageAs(c.stack.token!);
    bobPage = await pageAs(bob.token);
    carolPage = await pageAs(carol.token);
  });

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  });

  it('a viewer who opened the link before the prompt sees it and the streamed reply live, once each, in REST order; cannot send', async () => {
    await owner.goto(`${c.stack.url}/session/?id=${session.id}`);
    await owner.getByTestId('my-role').filter({ hasText: 'owner' }).waitFor();
    viewerLinkUrl = await createLink('viewer');
    expect(viewerLinkUrl).toContain('/join/?token=yks_');

    // Carol opens the link: she lands on the live view as a viewer, before anything was said.
    await carolPage.goto(viewerLinkUrl);
    await carolPage.waitForURL(/\/session\/\?id=/);
    await carolPage.getByTestId('composer-read-only').waitFor();
    expect(await carolPage.getByTestId('composer-input').isDisabled()).toBe(true);
    expect(await carolPage.getByTestId('composer-send').isDisabled()).toBe(true);
    expect(await carolPage.getByTestId('share-button').count()).toBe(0);
    await owner
      .getByTestId('presence-viewer')
      .filter({ has: owner.locator('[aria-label^="Carol"]') })
      .waitFor();

    await owner.getByTestId('composer-input').fill('HELLO team');
    // Drivers' typing shows to the others.
    await carolPage.getByTestId('typing').filter({ hasText: 'Admin is typing' }).waitFor();
    await owner.getByTestId('composer-send').click();
    await carolPage.getByText('Hello everyone, this reply streams live.').waitFor();
    await carolPage.getByTestId('user-message').filter({ hasText: 'HELLO team' }).waitFor();
    await expectEventually(async () => (await carolPage.getByTestId('session-status').textContent())?.includes('idle'));

    const history = await items();
    expect(await shownSeqs(carolPage)).toEqual(history.map((i) => i.seq));
    expect(await carolPage.getByText('Hello everyone, this reply streams live.').count()).toBe(1);
    expect(await carolPage.getByTestId('user-message').filter({ hasText: 'HELLO team' }).count()).toBe(1);
    expect(await carolPage.getByTestId('message-bubble').count()).toBe(
      history.filter((i) => i.type === 'agent_message').length,
    );

    // The server refuses her anyway.
    const refused = await c.stack.api('POST', `/sessions/${session.id}/messages`, { text: 'HELLO' }, carol.token);
    expect(refused.status).toBe(403);

    await carolPage.screenshot({ path: join(ARTIFACTS, 'session-view-desktop.png'), fullPage: true });
    await carolPage.setViewportSize({ width: 390, height: 844 });
    await carolPage.getByTestId('composer-read-only').waitFor();
    const overflow = await carolPage.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await carolPage.screenshot({ path: join(ARTIFACTS, 'session-view-390.png'), fullPage: true });
    await carolPage.setViewportSize({ width: 1200, height: 900 });
  });

  it('a driver sends from their own browser and the turn shows their name everywhere', async () => {
    const driverUrl = await createLink('driver');
    await bobPage.goto(driverUrl);
    await bobPage.waitForURL(/\/session\/\?id=/);
    await bobPage.getByTestId('my-role').filter({ hasText: 'driver' }).waitFor();
    expect(await bobPage.getByTestId('composer-read-only').count()).toBe(0);

    await bobPage.getByTestId('composer-input').fill('WRITE the file please');
    await bobPage.getByTestId('composer-send').click();
    for (const page of [owner, carolPage, bobPage]) {
      const mine = page.getByTestId('user-message').filter({ hasText: 'WRITE the file please' });
      await mine.waitFor();
      expect(await mine.locator('.bubble-author').textContent()).toBe('Bob');
      await page.getByText('Wrote out.txt for Bob.').waitFor();
    }
    const bobs = (await items()).find((i) => i.type === 'user_message' && JSON.stringify(i).includes('WRITE'));
    expect(bobs?.actor).toEqual({ id: bob.userId, name: 'Bob' });
    await expectEventually(async () => (await owner.getByTestId('session-status').textContent())?.includes('idle'));
  });

  it('an ASK policy raises an approval card in every browser; the owner approves; all update; the turn finishes', async () => {
    // The owner also has the global inbox open in another tab.
    const inbox = await owner.context().newPage();
    await inbox.goto(`${c.stack.url}/approvals/`);
    await inbox.getByTestId('approvals-inbox').waitFor();
    await bobPage.getByTestId('composer-input').fill('SHELL run it');
    await bobPage.getByTestId('composer-send').click();
    for (const page of [owner, bobPage, carolPage]) {
      await page.getByTestId('approval-card').waitFor({ timeout: 60_000 });
    }
    await inbox.getByTestId('inbox-approval').waitFor();
    // A deep link to this one approval, from the card.
    const href = await owner
      .getByTestId('approval-card')
      .getByRole('link', { name: 'Link to this approval' })
      .getAttribute('href');
    const deep = await owner.context().newPage();
    await deep.goto(`${c.stack.url}${href}`);
    await deep.locator('[data-testid="inbox-approval"].focused').waitFor();
    await deep.close();
    expect(await bobPage.getByTestId('approval-approve').count()).toBe(0);
    expect(await bobPage.getByTestId('approval-approve-session').count()).toBe(0);
    expect(await bobPage.getByTestId('approval-status').textContent()).toContain('Waiting for the session owner');
    // The policy offers "always allow in this session": the card and the inbox show it to whoever may decide.
    expect(await owner.getByTestId('approval-approve-session').textContent()).toBe('Always allow in this session');
    await inbox.getByTestId('inbox-approve-session').waitFor();
    await owner.getByTestId('approval-approve').click();
    for (const page of [owner, bobPage, carolPage]) {
      await page.locator('[data-testid="approval-status"][data-status="approved"]').waitFor();
      await page.getByText('Shell done.').waitFor({ timeout: 60_000 });
    }
    expect(await carolPage.getByTestId('approval-status').textContent()).toContain('by');
    // The inbox heard of it without a reload: it appeared, and left once decided. A late decision is refused.
    await inbox.getByTestId('inbox-approval').waitFor({ state: 'detached' });
    const approvalId = await owner.getByTestId('approval-card').getAttribute('data-approval-id');
    const late = await c.stack.api<{ code: string }>('POST', `/sessions/${session.id}/approvals/${approvalId}`, {
      decision: 'deny',
    });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('approval.already_decided');
    expect(
      (await c.stack.api('POST', `/sessions/${session.id}/approvals/${approvalId}`, { decision: 'deny' }, bob.token))
        .status,
    ).toBe(403);
    await inbox.close();
  });

  it('the owner delegates approving to the driver from the share dialog; the driver stays live under the new grant', async () => {
    await owner.getByTestId('share-button').click();
    const row = owner.getByTestId('share-grant').filter({ hasText: 'Bob' });
    await row.waitFor();
    expect(await row.getByTestId('grant-role').inputValue()).toBe('driver');
    await row.getByTestId('grant-can-approve').click();
    await expectEventually(
      async () =>
        (await c.stack.api<{ canApprove: boolean }>('GET', `/sessions/${session.id}/access`, undefined, bob.token)).body
          .canApprove,
    );
    await owner.keyboard.press('Escape');
    // Bob's view re-joined after the change (the next test's live comment reaches him through it).
    await bobPage.getByTestId('my-role').filter({ hasText: 'driver' }).waitFor();
    expect(await bobPage.getByTestId('access-ended').count()).toBe(0);
  });

  it('a comment on out.txt line 1 appears live for the other user; resolving it updates both', async () => {
    for (const page of [owner, bobPage]) {
      await page.locator('[data-testid="file-entry"][data-path="out.txt"]').click();
      await page.locator('[data-testid="code-line"][data-line="1"]').waitFor();
    }
    await owner.locator('[data-testid="code-line"][data-line="1"] [data-testid="line-comment"]').click();
    await owner.getByTestId('comment-input').fill('Should this say "first"?');
    await owner.getByTestId('comment-submit').click();

    const bobThread = bobPage.locator('[data-testid="code-line"][data-line="1"] [data-testid="comment-thread"]');
    await bobThread.waitFor();
    const bobCount = bobPage.locator('[data-testid="file-list"] li', { has: bobPage.locator('[data-path="out.txt"]') });
    expect(await bobCount.getByTestId('file-comment-count').textContent()).toBe('1');
    expect(await bobThread.getByTestId('comment-body').textContent()).toBe('Should this say "first"?');
    await bobThread.getByTestId('reply-input').fill('Yes, it is the first line.');
    await bobThread.getByRole('button', { name: 'Reply' }).click();
    await owner.getByText('Yes, it is the first line.').waitFor();
    await bobThread.getByTestId('thread-resolve').click();
    await owner.locator('[data-testid="comment-thread"][data-resolved="true"]').waitFor();
    await bobPage.locator('[data-testid="comment-thread"][data-resolved="true"]').waitFor();
    // Open threads are counted per file: a resolved one no longer is.
    await bobCount.getByTestId('file-comment-count').waitFor({ state: 'detached' });
    expect(await owner.getByTestId('thread-resolved').textContent()).toContain('Bob');
  });

  it('fork at the first agent message: a new session of the forker with the history up to there', async () => {
    const before = await items();
    const first = before.find((i) => i.type === 'agent_message')!;
    await bobPage.locator(`[data-testid="item"][data-seq="${first.seq}"] [data-testid="fork-here"]`).click();
    await bobPage.getByTestId('fork-model').fill('claude-haiku-4-5');
    await bobPage.getByTestId('fork-submit').click();
    await bobPage.getByTestId('forked-from').waitFor();
    const forkId = new URL(bobPage.url()).searchParams.get('id')!;
    expect(forkId).not.toBe(session.id);
    const fork = (await c.stack.api<Session>('GET', `/sessions/${forkId}`, undefined, bob.token)).body;
    expect(fork).toMatchObject({
      ownerId: bob.userId,
      model: 'claude-haiku-4-5',
      forkedFrom: { sessionId: session.id, seq: first.seq },
    });
    await bobPage.getByTestId('my-role').filter({ hasText: 'owner' }).waitFor();
    // The copied items, then the runner's notice of the workspace it copied into the fork.
    await bobPage.getByText(/^workspace copied from the original session/).waitFor();
    const forkItems = (await c.stack.api<{ items: Item[] }>('GET', `/sessions/${forkId}/items`, undefined, bob.token))
      .body.items;
    const copied = before.filter((i) => i.seq <= first.seq).map((i) => i.seq);
    expect(forkItems.map((i) => i.seq)).toEqual([...copied, first.seq + 1]);
    expect(forkItems.at(-1)?.type).toBe('notice');
    expect(await shownSeqs(bobPage)).toEqual(forkItems.map((i) => i.seq));
    expect(await items()).toEqual(before);
  });

  it('someone without an account opens the viewer link as a guest: the live session under their name, nothing else', async () => {
    guestPage = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    await guestPage.goto(viewerLinkUrl);
    await guestPage.getByTestId('join-guest').waitFor();
    await guestPage.getByTestId('join-guest-name').fill('Gail');
    await guestPage.getByTestId('join-guest-submit').click();
    await guestPage.waitForURL(/\/session\/\?id=/);
    await guestPage.getByText('Hello everyone, this reply streams live.').waitFor();
    await guestPage.getByTestId('composer-read-only').waitFor();
    expect(await guestPage.getByTestId('share-button').count()).toBe(0);
    await owner
      .getByTestId('presence-viewer')
      .filter({ has: owner.locator('[aria-label^="Gail"]') })
      .waitFor();
    // Live: the owner's next turn streams into the guest's view.
    await owner.getByTestId('composer-input').fill('HELLO guest');
    await owner.getByTestId('composer-send').click();
    await guestPage.getByTestId('user-message').filter({ hasText: 'HELLO guest' }).waitFor();
    await expectEventually(async () => (await guestPage.getByTestId('session-status').textContent())?.includes('idle'));
    expect(await shownSeqs(guestPage)).toEqual((await items()).map((i) => i.seq));
    // The session list shows this one session, and the credential opens nothing else.
    await guestPage.goto(`${c.stack.url}/`);
    await guestPage.getByTestId('session-row').first().waitFor();
    expect(await guestPage.getByTestId('session-row').count()).toBe(1);
    const credential = await guestPage.evaluate<string | null>("localStorage.getItem('yoke.token')");
    expect(credential).toMatch(/^ykg_/);
    expect((await c.stack.api('GET', '/runners', undefined, credential!)).status).toBe(403);
    await guestPage.goto(`${c.stack.url}/session/?id=${session.id}`);
    await guestPage.getByTestId('timeline').waitFor();
  });

  it("revoking the link closes the viewer's live view at once, and the link then answers 404", async () => {
    await owner.getByTestId('share-button').click();
    const links = owner.getByTestId('share-link');
    await links.first().waitFor();
    const viewerRow = links.filter({ hasText: 'viewer' });
    viewerLinkId = (await viewerRow.getAttribute('data-link-id'))!;
    await viewerRow.getByTestId('link-revoke').click();
    // It asks first; the revoke happens on confirm.
    const confirm = owner.getByRole('alertdialog');
    await confirm.waitFor();
    const started = Date.now();
    await confirm.getByRole('button', { name: 'Revoke link' }).click();
    await carolPage.getByTestId('access-ended').waitFor({ timeout: 10_000 });
    await guestPage.getByTestId('access-ended').waitFor({ timeout: 10_000 });
    const closedMs = Date.now() - started;
    console.log(`viewer's live view closed ${closedMs} ms after the revoke click`);
    expect(await carolPage.getByTestId('timeline').count()).toBe(0);
    // Her connection itself comes back (the rest of the app keeps working), and the view stays closed.
    await carolPage.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    expect(await carolPage.getByTestId('access-ended').count()).toBe(1);
    const token = new URL(viewerLinkUrl).searchParams.get('token');
    expect((await c.stack.api('POST', '/share-links/redeem', { token }, carol.token)).status).toBe(404);
    expect((await c.stack.api('GET', `/sessions/${session.id}`, undefined, carol.token)).status).toBe(404);
    expect(viewerLinkId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('org policies: YAML errors inline as you type, a dry run over recorded sessions; keyboard and dark mode', async () => {
    const admin = await owner.context().newPage();
    await admin.goto(`${c.stack.url}/admin/?tab=policies`);
    const editor = admin.getByTestId('policy-yaml');
    await editor.waitFor();
    await editor.fill('- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n- { type: nope }\n');
    const issue = admin.getByTestId('policy-issue').first();
    await issue.waitFor();
    expect(await issue.textContent()).toMatch(/line 2/);
    expect(await admin.getByTestId('policy-save').isDisabled()).toBe(true);
    await editor.fill('- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n');
    await admin.getByTestId('policy-issue').first().waitFor({ state: 'detached' });
    await admin.getByTestId('policy-dry-run').click();
    const row = admin
      .getByTestId('dry-run-session')
      .filter({ has: admin.getByRole('cell', { name: 'Pairing session', exact: true }) });
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(Number(cells[3])).toBeGreaterThanOrEqual(1);
    await admin.getByTestId('admin-tab-members').click();
    await admin.getByTestId('member-row').filter({ hasText: 'Bob' }).waitFor();
    await admin.getByTestId('admin-tab-runners').click();
    await admin.getByTestId('runner-row').filter({ hasText: 'online' }).waitFor();

    // Keyboard: the share dialog opens with Enter and closes with Escape, focus staying in the page.
    await owner.bringToFront();
    await owner.getByTestId('share-button').focus();
    await owner.keyboard.press('Enter');
    await owner.getByTestId('share-dialog').waitFor({ state: 'visible' });
    await owner.keyboard.press('Escape');
    await owner.getByTestId('share-dialog').waitFor({ state: 'hidden' });
    await owner.emulateMedia({ colorScheme: 'dark' });
    const bg = await owner.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    await owner.emulateMedia({ colorScheme: 'light' });
    const lightBg = await owner.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(bg).not.toBe(lightBg);
    await owner.emulateMedia({ colorScheme: 'dark' });
    await owner.screenshot({ path: join(ARTIFACTS, 'session-view-owner-dark.png'), fullPage: true });
    await admin.close();
  });
});
