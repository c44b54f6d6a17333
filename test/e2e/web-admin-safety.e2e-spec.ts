import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { EnrolReply, MemberView, RunnerView, Session, SessionShares } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';
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

/** The test id of the focused element (the dialog's Cancel, or the button that opened it): focus moves a frame or two after the dialog opens or closes, so it is waited for. */
function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid') ?? null");
}

/**
 * Destructive actions in the web UI ask first (Cancel and Esc change nothing, confirming does it), the server's
 * refusals show, and the chrome fits the mode: real server, runner and browser (Debian chromium).
 */
describe('web UI: safe destructive actions and mode-aware chrome', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function pageAs(token: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(token)});` });
    return ctx.newPage();
  }

  describe('team mode', () => {
    let c: CollabStack;
    let bob: Member;
    let owner: Page;
    let session: Session;

    const members = async () => (await c.stack.api<MemberView[]>('GET', '/org/members')).body;
    const runners = async () => (await c.stack.api<RunnerView[]>('GET', '/runners')).body;

    beforeAll(async () => {
      c = await startCollabStack();
      bob = await c.addMember('Bob');
      c.model.script([{ match: 'HELLO', steps: [{ text: 'Hello there.' }] }]);
      session = (
        await c.stack.api<Session>('POST', '/sessions', {
          agentYaml: AGENT,
          workspace: tempDir('ws'),
          title: 'Safety session',
        })
      ).body;
      owner = await pageAs(c.stack.token);
    });

    afterAll(async () => {
      await c?.stop();
    });

    it('the header shows who you are and your org', async () => {
      await owner.goto(`${c.stack.url}/`);
      const me = (await c.stack.api<{ name: string }>('GET', '/me')).body;
      const org = (await c.stack.api<{ name: string }>('GET', '/org')).body;
      await expect(owner.getByTestId('identity-user').textContent({ timeout: 15_000 })).resolves.toBe(me.name);
      expect(await owner.getByTestId('identity-org').textContent()).toBe(org.name);
      await shoot(owner, 'team-header');
    });

    it('removing a member asks first: Esc and Cancel change nothing, confirming removes', async () => {
      await owner.goto(`${c.stack.url}/admin/?tab=members`);
      const bobRow = owner.getByTestId('member-row').filter({ hasText: bob.email });
      const remove = bobRow.getByTestId('member-remove');
      await remove.click();
      const dialog = owner.getByRole('alertdialog');
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('Remove member');
      await expectEventually(async () => (await focusedTestId(owner)) === 'confirm-cancel', 5_000);
      await shoot(owner, 'confirm-remove-member');
      await owner.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await expectEventually(async () => (await focusedTestId(owner)) === 'member-remove', 5_000);
      expect((await members()).map((m) => m.userId)).toContain(bob.userId);

      await remove.click();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await members()).map((m) => m.userId)).toContain(bob.userId);

      await remove.click();
      await dialog.getByRole('button', { name: 'Remove member' }).click();
      await expectEventually(async () => !(await members()).some((m) => m.userId === bob.userId));
      await bobRow.waitFor({ state: 'detached' });
    });

    it("the org's last owner cannot be removed: the page shows the server's reason", async () => {
      const me = (await c.stack.api<{ userId: string; email: string }>('GET', '/me')).body;
      await owner.getByTestId('member-row').filter({ hasText: me.email }).getByTestId('member-remove').click();
      await owner.getByRole('alertdialog').getByRole('button', { name: 'Remove member' }).click();
      // The server's reason, shown as it gave it.
      await owner.getByRole('alert').filter({ hasText: 'this is its last owner' }).waitFor();
      expect((await members()).map((m) => m.userId)).toContain(me.userId);
    });

    it('revoking a share link asks first; Cancel keeps it, confirming revokes it', async () => {
      await owner.goto(`${c.stack.url}/session/?id=${session.id}`);
      await owner.getByTestId('share-button').click();
      await owner.getByTestId('link-create').click();
      await owner.getByTestId('link-url').waitFor();
      const links = async () =>
        (await c.stack.api<SessionShares>('GET', `/sessions/${session.id}/shares`)).body.links.length;
      expect(await links()).toBe(1);
      await owner.getByTestId('link-revoke').click();
      const dialog = owner.getByRole('alertdialog');
      await dialog.waitFor();
      await expectEventually(async () => (await focusedTestId(owner)) === 'confirm-cancel', 5_000);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      // Only the confirmation closed: the share dialog is still open.
      expect(await owner.getByTestId('share-dialog').isVisible()).toBe(true);
      expect(await links()).toBe(1);
      await owner.getByTestId('link-revoke').click();
      await dialog.getByRole('button', { name: 'Revoke link' }).click();
      await expectEventually(async () => (await links()) === 0);
      await owner.keyboard.press('Escape');
    });

    it('revoking a runner asks first; then its queued prompt says it will not be delivered', async () => {
      const [runner] = await runners();
      await owner.goto(`${c.stack.url}/admin/?tab=runners`);
      const revoke = owner.getByTestId('runner-row').filter({ hasText: runner.name }).getByTestId('runner-revoke');
      await revoke.click();
      const dialog = owner.getByRole('alertdialog');
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('cannot reconnect with its credential');
      await shoot(owner, 'confirm-revoke-runner');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await runners()).map((r) => r.id)).toContain(runner.id);

      await revoke.click();
      await dialog.getByRole('button', { name: 'Revoke runner' }).click();
      await expectEventually(async () => !(await runners()).some((r) => r.id === runner.id));

      // A prompt could never be delivered now: the composer says so before anything is sent, and Send stays off.
      await owner.goto(`${c.stack.url}/session/?id=${session.id}`);
      const note = owner.getByTestId('composer-runner-revoked');
      await note.waitFor();
      expect(await note.textContent()).toBe(
        `The runner ${runner.name} was revoked: a prompt sent here would never be delivered. Fork the session to go on with another runner.`,
      );
      await owner.getByTestId('composer-input').fill('HELLO after the revoke');
      expect(await owner.getByTestId('composer-send').isDisabled()).toBe(true);
      expect(await owner.getByTestId('runner-state').textContent()).toContain('runner revoked');
      await shoot(owner, 'revoked-runner-prompt');
    });
  });

  describe('embedded mode', () => {
    let stack: Stack;
    let page: Page;
    let runnerId: string;

    beforeAll(async () => {
      stack = await startStack('embedded');
      const enrolled = await stack.api<EnrolReply>(
        'POST',
        '/runners/enrol',
        { token: await stack.enrolmentToken(), name: 'local' },
        null,
      );
      runnerId = enrolled.body.runnerId;
      const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      page = await ctx.newPage();
      await page.goto(`${stack.url}/?token=${stack.token}`);
    });

    afterAll(async () => {
      await stack?.stop();
    });

    it('shows no API token control and no signed-in user', async () => {
      await page.goto(`${stack.url}/`);
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
      await expectEventually(async () => (await page.getByText('API token').count()) === 0);
      expect(await page.getByTestId('identity').count()).toBe(0);
      await shoot(page, 'embedded-sessions');
    });

    it('the local runner cannot be revoked: the page says why and the runner stays', async () => {
      await page.goto(`${stack.url}/admin/?tab=runners`);
      await page.getByTestId('runner-revoke').click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke runner' }).click();
      await page.getByRole('alert').filter({ hasText: 'this is the local runner' }).waitFor();
      const listed = (await stack.api<RunnerView[]>('GET', '/runners')).body;
      expect(listed.map((r) => r.id)).toEqual([runnerId]);
      await shoot(page, 'embedded-runner-refused');
    });
  });
});
