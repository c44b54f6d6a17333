import { randomBytes } from 'node:crypto';
import type { Browser as Chromium } from 'playwright-core';
import type { Item, MemberView, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { Browser, signInAtProvider, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, startCollabStack } from './collab-support';

const CLIENT_SECRET = `s-${randomBytes(12).toString('hex')}`;

/**
 * The web UI for someone signed in by single sign-on (session cookie, no API token): the shared session opens over
 * the cookie-authenticated socket, and the writes the UI makes (a prompt, a comment) carry the CSRF token.
 */
describe('web UI: a teammate signed in by single sign-on co-drives', () => {
  let c: CollabStack;
  let idp: TestOidcProvider;
  let chromium: Chromium;

  beforeAll(async () => {
    c = await startCollabStack({ YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
    const callback = `${c.stack.url}/api/v1/auth/oidc/callback`;
    idp = await startOidcProvider({
      clients: [{ client_id: 'yoke', client_secret: CLIENT_SECRET, redirect_uris: [callback] }],
      accounts: { alice: { email: 'alice@a.example', name: 'Alice' } },
    });
    const put = await c.stack.api('PUT', '/org/sso', {
      issuer: idp.issuer,
      clientId: 'yoke',
      clientSecret: CLIENT_SECRET,
      allowedDomains: ['a.example'],
    });
    expect(put.status).toBe(200);
    chromium = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await idp?.stop();
    await c?.stop();
  });

  it('opens the shared session with the session cookie and sends a prompt and a comment as herself', async () => {
    c.model.script([{ match: 'COOKIE', steps: [{ text: 'Answered for Alice.' }] }]);
    const session = (
      await c.stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title: 'SSO pair' })
    ).body;

    // Alice signs in through the real provider (just-in-time member of the org).
    const jar = new Browser();
    const org = (await c.stack.api<{ slug: string }>('GET', '/org')).body.slug;
    const login = `${c.stack.url}/api/v1/auth/oidc/login?org=${org}&returnTo=${encodeURIComponent('/')}`;
    const back = await signInAtProvider(jar, login, 'alice', `${c.stack.url}/api/v1/auth/oidc/callback`);
    expect((await jar.request(back)).status).toBe(302);
    const alice = (await c.stack.api<MemberView[]>('GET', '/org/members')).body.find(
      (m) => m.email === 'alice@a.example',
    )!;
    expect(
      (await c.stack.api('POST', `/sessions/${session.id}/shares/invites`, { userId: alice.userId, role: 'driver' }))
        .status,
    ).toBe(201);

    const ctx = await chromium.newContext({ viewport: { width: 1200, height: 900 } });
    const host = new URL(c.stack.url).host;
    await ctx.addCookies(
      [...(jar.cookies.get(host) ?? new Map<string, string>())].map(([name, value]) => ({
        name,
        value,
        url: c.stack.url,
      })),
    );
    const page = await ctx.newPage();
    await page.goto(`${c.stack.url}/session/?id=${session.id}`);
    await page.getByTestId('my-role').filter({ hasText: 'driver' }).waitFor();
    await page.getByTestId('composer-input').fill('COOKIE please');
    await page.getByTestId('composer-send').click();
    await page.getByText('Answered for Alice.').waitFor();
    const mine = page.getByTestId('user-message').filter({ hasText: 'COOKIE please' });
    expect(await mine.locator('.bubble-author').textContent()).toBe('Alice');
    await expectEventually(async () => (await page.getByTestId('session-status').textContent())?.includes('idle'));

    const items = (await c.stack.api<{ items: Item[] }>('GET', `/sessions/${session.id}/items`)).body.items;
    const answer = items.find((i) => i.type === 'agent_message')!;
    await page.locator(`[data-testid="item"][data-seq="${answer.seq}"] [data-testid="comment-item"]`).click();
    await page.getByTestId('item-comment-input').fill('Thanks!');
    await page.getByTestId('item-comment-submit').click();
    await page.getByTestId('comment-thread').filter({ hasText: 'Thanks!' }).waitFor();
    const comments = (await c.stack.api<{ author: { name: string } }[]>('GET', `/sessions/${session.id}/comments`))
      .body;
    expect(comments.map((x) => x.author.name)).toEqual(['Alice']);
    await ctx.close();
  });
});
