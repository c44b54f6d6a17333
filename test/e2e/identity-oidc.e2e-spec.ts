import { CSRF_COOKIE, CSRF_HEADER, NS_WEB, SESSION_COOKIE } from '@yoke/protocol';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { io } from 'socket.io-client';
import { createTestDatabase } from '../support/env';
import { Browser, signInAtProvider, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { type Stack, startStack } from '../support/stack';

/**
 * Browser single sign-on against a real OpenID Provider (oidc-provider), through the real redirects: an org admin
 * configures the org's provider through the API, a person signs in (just-in-time member), uses the API and the /web
 * socket with the session cookie (CSRF token on writes), signs out; every broken attempt is refused clearly.
 */
let stack: Stack;
let idp: TestOidcProvider;
let db: { url: string; drop(): Promise<void> };
let slug = '';
const CLIENT_SECRET = `s-${randomBytes(12).toString('hex')}`;

const callback = () => `${stack.url}/api/v1/auth/oidc/callback`;
const loginUrl = (org = slug, returnTo = '/sessions') =>
  `${stack.url}/api/v1/auth/oidc/login?org=${encodeURIComponent(org)}&returnTo=${encodeURIComponent(returnTo)}`;

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

async function signIn(account: string) {
  const browser = new Browser();
  const back = await signInAtProvider(browser, loginUrl(), account, callback());
  return { browser, back, res: await browser.request(back) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack('team', {
    DATABASE_URL: db.url,
    YOKE_SECRET_KEY: randomBytes(32).toString('base64url'),
  });
  idp = await startOidcProvider({
    clients: [{ client_id: 'yoke', client_secret: CLIENT_SECRET, redirect_uris: [callback()] }],
    accounts: {
      alice: { email: 'alice@a.example', name: 'Alice' },
      bob: { email: 'bob@elsewhere.example', name: 'Bob' },
      carol: { email: 'carol@a.example', name: 'Carol' },
      dave: { email: 'dave@partner.example', name: 'Dave' },
    },
  });
  slug = (await stack.api<{ slug: string }>('GET', '/org')).body.slug;
  const put = await stack.api('PUT', '/org/sso', {
    issuer: idp.issuer,
    clientId: 'yoke',
    clientSecret: CLIENT_SECRET,
    allowedDomains: ['a.example'],
  });
  expect(put.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await idp?.stop();
  await stack?.stop();
  await db?.drop();
});

describe('OIDC single sign-on', () => {
  it('keeps the client secret encrypted at rest and never shows it', async () => {
    const [row] = await sql<{ client_secret_enc: string }>('SELECT client_secret_enc FROM org_sso');
    expect(row.client_secret_enc).not.toContain(CLIENT_SECRET);
    const view = await stack.api<Record<string, unknown>>('GET', '/org/sso');
    expect(JSON.stringify(view.body)).not.toContain(CLIENT_SECRET);
    expect(view.body.callbackUrl).toBe(callback());
    // A member cannot read or change it.
    const member = await stack.api<{ token: string }>('POST', '/tokens', { name: 'ro', scope: 'read' });
    expect((await stack.api('GET', '/org/sso', undefined, member.body.token)).status).toBe(403);
  });

  it('signs a person in through the provider, then out', async () => {
    const { browser, res } = await signIn('alice');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${stack.url}/sessions`);
    const setCookies = res.headers.getSetCookie();
    expect(setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/HttpOnly/);
    expect(setCookies.find((c) => c.startsWith(`${CSRF_COOKIE}=`))).not.toMatch(/HttpOnly/);

    // Just in time: alice is now a member of the org, with the default role.
    const me = await browser.request(`${stack.url}/api/v1/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'alice@a.example', name: 'Alice', role: 'member' });
    const [identity] = await sql<{ subject: string }>('SELECT subject FROM identities');
    expect(identity.subject).toBe('alice');

    // Writes with the cookie need the CSRF token; with it they work.
    const noCsrf = await browser.request(`${stack.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from-browser' }),
    });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { code: string }).code).toBe('auth.csrf_failed');
    const csrf = decodeURIComponent(browser.cookie(stack.url, CSRF_COOKIE)!);
    const withCsrf = await browser.request(`${stack.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CSRF_HEADER]: csrf },
      body: JSON.stringify({ name: 'from-browser' }),
    });
    expect(withCsrf.status).toBe(201);

    // The /web socket authenticates with the same cookie at the handshake.
    const cookie = browser.cookieHeader(stack.url);
    const connected = await handshake(cookie);
    expect(connected).toBe('connected');

    // A live view open when signing out is closed at once.
    const live = io(`${stack.url}${NS_WEB}`, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie },
    });
    await new Promise<void>((resolve, reject) => {
      live.once('connect', () => resolve());
      live.once('connect_error', reject);
    });
    const closed = new Promise<string>((resolve) => live.once('disconnect', (reason) => resolve(reason)));

    const out = await browser.request(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { [CSRF_HEADER]: csrf },
    });
    expect(out.status).toBe(204);
    expect(browser.cookie(stack.url, SESSION_COOKIE)).toBeUndefined();
    expect(await closed).toBe('io server disconnect');
    // The old cookie is dead everywhere.
    const after = await fetch(`${stack.url}/api/v1/me`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(await handshake(cookie)).toBe('auth.unauthenticated');
  });

  it('refuses a socket handshake with the cookie from another site', async () => {
    const { browser } = await signIn('carol');
    const cookie = browser.cookieHeader(stack.url);
    expect(await handshake(cookie, 'https://evil.example')).toBe('request.foreign_origin');
    expect(await handshake(cookie, stack.url)).toBe('connected');
  });

  it('refuses a replayed callback', async () => {
    const browser = new Browser();
    const back = await signInAtProvider(browser, loginUrl(), 'carol', callback());
    const captured = browser.cookieHeader(back);
    expect((await browser.request(back)).status).toBe(302);
    // The same callback, with the same pending-sign-in cookie, once more.
    const again = await fetch(back, { headers: { cookie: captured }, redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: 'auth.login_failed', message: expect.stringMatching(/used/) });
  });

  it('refuses an expired state', async () => {
    const browser = new Browser();
    const back = await signInAtProvider(browser, loginUrl(), 'carol', callback());
    await sql(`UPDATE oidc_states SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    const res = await browser.request(back);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'auth.login_failed', message: expect.stringMatching(/expired/) });
    expect(browser.cookie(stack.url, SESSION_COOKIE)).toBeUndefined();
  });

  it('refuses a callback that did not start in this browser', async () => {
    const browser = new Browser();
    const back = await signInAtProvider(browser, loginUrl(), 'carol', callback());
    const res = await fetch(back, { redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'auth.login_failed' });
  });

  it('refuses an ID token for another audience', async () => {
    await idp.tamper({ aud: 'some-other-client' });
    try {
      const { browser, res } = await signIn('carol');
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'auth.login_failed', message: expect.stringMatching(/aud/) });
      expect(browser.cookie(stack.url, SESSION_COOKIE)).toBeUndefined();
    } finally {
      await idp.tamper(null);
    }
  });

  it('refuses an email domain the org does not allow, and creates nobody', async () => {
    const { browser, res } = await signIn('bob');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      code: 'auth.login_failed',
      message: expect.stringMatching(/elsewhere\.example.*not allowed/),
    });
    expect(browser.cookie(stack.url, SESSION_COOKIE)).toBeUndefined();
    expect(await sql(`SELECT id FROM users WHERE email = 'bob@elsewhere.example'`)).toEqual([]);
  });

  it('lets an invited person in from another domain, with the invited role, once', async () => {
    const inv = await stack.api<{ loginUrl: string; id: string }>('POST', '/org/invitations', {
      email: 'dave@partner.example',
      role: 'admin',
    });
    expect(inv.status).toBe(201);
    expect(inv.body.loginUrl).toBe(`${stack.url}/api/v1/auth/oidc/login?org=${slug}`);
    const browser = new Browser();
    const back = await signInAtProvider(browser, inv.body.loginUrl, 'dave', callback());
    expect((await browser.request(back)).status).toBe(302);
    const me = await browser.request(`${stack.url}/api/v1/me`);
    expect(await me.json()).toMatchObject({ email: 'dave@partner.example', role: 'admin' });
    const open = await stack.api<{ id: string }[]>('GET', '/org/invitations');
    expect(open.body.map((i) => i.id)).not.toContain(inv.body.id);
  });

  it("a role change or removal closes the member's live sockets; a revoked token closes its own", async () => {
    const { browser } = await signIn('carol');
    const cookie = browser.cookieHeader(stack.url);
    const me = (await (await browser.request(`${stack.url}/api/v1/me`)).json()) as { userId: string; role: string };
    expect(me.role).toBe('member');
    const open = async (opts: { cookie?: string; token?: string }) => {
      const s = io(`${stack.url}${NS_WEB}`, {
        transports: ['websocket'],
        reconnection: false,
        auth: opts.token ? { token: opts.token } : {},
        extraHeaders: opts.cookie ? { cookie: opts.cookie } : {},
      });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      return { s, closed: new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason))) };
    };
    const first = await open({ cookie });
    expect((await stack.api('PATCH', `/org/members/${me.userId}`, { role: 'auditor' })).status).toBe(200);
    expect(await first.closed).toBe('io server disconnect');
    const again = await open({ cookie });
    expect((await stack.api('DELETE', `/org/members/${me.userId}`)).status).toBe(204);
    expect(await again.closed).toBe('io server disconnect');
    expect(await handshake(cookie)).toBe('auth.unauthenticated');

    const created = await stack.api<{ id: string; token: string }>('POST', '/tokens', { name: 'live' });
    const viaToken = await open({ token: created.body.token });
    expect((await stack.api('DELETE', `/tokens/${created.body.id}`)).status).toBe(204);
    expect(await viaToken.closed).toBe('io server disconnect');
  });

  it('a token revoked while its socket connects never leaves that socket open', async () => {
    // The revoke races the handshake at staggered moments: the socket must be refused or closed, every time.
    for (let i = 0; i < 30; i++) {
      const created = await stack.api<{ id: string; token: string }>('POST', '/tokens', { name: `race-${i}` });
      const s = io(`${stack.url}${NS_WEB}`, {
        transports: ['websocket'],
        reconnection: false,
        auth: { token: created.body.token },
      });
      const outcome = new Promise<string>((resolve) => {
        s.once('connect_error', () => resolve('refused'));
        s.once('disconnect', (reason) => resolve(reason));
      });
      await new Promise((r) => setTimeout(r, i % 10));
      expect((await stack.api('DELETE', `/tokens/${created.body.id}`)).status).toBe(204);
      const got = await Promise.race([outcome, new Promise<string>((r) => setTimeout(() => r('still open'), 5_000))]);
      s.close();
      expect([i, got]).toEqual([i, expect.stringMatching(/^(refused|io server disconnect)$/)]);
    }
  });

  it('refuses an unknown org, and an org without single sign-on', async () => {
    // Opened in a browser without an org, the link asks for one (an API client is told what is missing).
    const picker = await fetch(`${stack.url}/api/v1/auth/oidc/login`, { headers: { accept: 'text/html' } });
    expect(picker.status).toBe(200);
    expect(await picker.text()).toContain('name="org"');
    const bareApi = await fetch(`${stack.url}/api/v1/auth/oidc/login`, { headers: { accept: 'application/json' } });
    expect(bareApi.status).toBe(400);
    const unknown = await fetch(loginUrl('no-such-org'), { redirect: 'manual' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      code: 'org.not_found',
      message: expect.stringMatching(/no-such-org/),
    });
    const created = await stack.api<{ org: { slug: string } }>('POST', '/orgs', { slug: 'no-sso', name: 'No SSO' });
    expect(created.status).toBe(201);
    const bare = await fetch(loginUrl('no-sso'), { redirect: 'manual' });
    expect(bare.status).toBe(409);
    expect(await bare.json()).toMatchObject({ code: 'auth.sso_not_configured' });
  });
});

/** Opens a /web socket with this cookie (and Origin); 'connected' or the handshake's error code. */
function handshake(cookie: string, origin?: string): Promise<string> {
  return new Promise((resolve) => {
    const s = io(`${stack.url}${NS_WEB}`, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie, ...(origin ? { origin } : {}) },
    });
    s.once('connect', () => (s.close(), resolve('connected')));
    s.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      s.close();
      resolve(err.data?.code ?? err.message);
    });
  });
}
