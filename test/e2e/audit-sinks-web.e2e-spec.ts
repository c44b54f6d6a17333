import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { AuditSinkView } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { type Stack, startStack } from '../support/stack';

/** Screenshots the run leaves behind (desktop and phone width); never committed. */
const ARTIFACTS = process.env.YOKE_E2E_ARTIFACTS ?? '/tmp/yoke-e2e-artifacts';

/**
 * The Streaming section of the audit page in a real browser, against a team-mode server and worker: an admin adds a
 * webhook sink (its secret shown once), sees it deliver, sends a test delivery, pauses it, and deletes it after confirming.
 */
describe('web UI: streaming the audit log', () => {
  let stack: Stack;
  let browser: Browser;
  let receiver: Server;
  let hookUrl = '';
  let received = 0;

  async function pageAs(token: string, width = 1440): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    await ctx.addInitScript({ content: `localStorage.setItem('yoke.token', ${JSON.stringify(token)});` });
    return ctx.newPage();
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received += 1;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    stack = await startStack('team', { YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
    await stack.startWorker();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it('adds a webhook sink showing its secret once, shows its health, tests, pauses and deletes it', async () => {
    const page = await pageAs(stack.token);
    await page.goto(`${stack.url}/audit/`);
    const section = page.getByTestId('audit-streaming');
    await page.getByTestId('audit-sinks-empty').waitFor();

    await section.locator('summary', { hasText: 'Add a sink' }).click();
    await section.getByLabel('Name').fill('SIEM');
    await page.getByTestId('audit-sink-url').fill(hookUrl);
    await page.getByTestId('audit-sink-add').click();
    const secret = page.getByTestId('audit-sink-secret');
    await secret.waitFor();
    expect(await secret.locator('code').first().textContent()).toMatch(/^yws_[\w-]{40,}$/);
    await page.screenshot({ path: join(ARTIFACTS, 'audit-streaming-1440.png'), fullPage: true });
    await secret.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });

    // Its first delivery (its own creation event) lands; the list says it is up to date.
    await expectEventually(() => received > 0, 30_000);
    const sink = page.getByTestId('audit-sink');
    await page.locator('[data-testid="audit-sink"][data-health="idle"]').waitFor({ timeout: 30_000 });
    expect(await sink.getByTestId('audit-sink-lag').textContent()).toBe('0 events');
    // The secret is not on the page any more, nor in what the API lists.
    const listed = await stack.api<AuditSinkView[]>('GET', '/audit/sinks');
    expect(JSON.stringify(listed.body)).not.toContain('yws_');

    const before = received;
    await sink.getByTestId('audit-sink-test').click();
    expect(await sink.getByTestId('audit-sink-test-result').textContent()).toBe('The test delivery was acknowledged.');
    expect(received).toBeGreaterThan(before);

    await sink.getByTestId('audit-sink-toggle').click();
    await page.locator('[data-testid="audit-sink"][data-health="paused"]').waitFor();
    expect(await sink.getByTestId('audit-sink-toggle').textContent()).toBe('Resume');

    const phone = await pageAs(stack.token, 390);
    await phone.goto(`${stack.url}/audit/`);
    await phone.getByTestId('audit-sink').waitFor();
    await phone.getByTestId('audit-streaming').scrollIntoViewIfNeeded();
    await phone.screenshot({ path: join(ARTIFACTS, 'audit-streaming-390.png'), fullPage: true });

    await sink.getByTestId('audit-sink-delete').click();
    await sink.getByTestId('audit-sink-delete-confirm').click();
    await page.getByTestId('audit-sinks-empty').waitFor();
    expect((await stack.api<AuditSinkView[]>('GET', '/audit/sinks')).body).toEqual([]);
  });
});
