import { CSRF_COOKIE, CSRF_HEADER, DEVICE_GRANT_TYPE } from '@yoke/protocol';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '../support/env';
import { Browser, signInAtProvider, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { CLI_MAIN, runCli, spawnNode, tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * `yoke login SERVER` through the device authorization grant (RFC 8628) served by Yoke: the real CLI binary prints
 * the code and polls; a person signed in through SSO approves it with their browser session; the CLI stores a
 * scoped, expiring token (hashed at rest on the server), `whoami` uses it, `tokens list` shows it, `logout`
 * revokes it. A denied request ends the CLI with an error; a device code is good for one token only.
 */
let stack: Stack;
let idp: TestOidcProvider;
let db: { url: string; drop(): Promise<void> };
let browser: Browser;
let csrf = '';

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

function cliEnv(home: string): NodeJS.ProcessEnv {
  return { ...stack.cliEnv, YOKE_HOME: home, YOKE_TOKEN: '', YOKE_SERVER: '' };
}

/** Starts `yoke login` and waits for the code it prints. */
async function startLogin(home: string, args: string[] = []) {
  const proc = spawnNode(CLI_MAIN, ['login', stack.url, ...args], cliEnv(home));
  const line = await proc.waitForLine((l) => /enter the code [A-Z]{4}-[A-Z]{4}/.test(l), 30_000);
  const userCode = /([A-Z]{4}-[A-Z]{4})/.exec(line)![1];
  return { proc, userCode };
}

function decide(userCode: string, approve: boolean, withCsrf = true) {
  return browser.request(`${stack.url}/api/v1/auth/device/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(withCsrf ? { [CSRF_HEADER]: csrf } : {}) },
    body: JSON.stringify({ userCode, approve }),
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack('team', { DATABASE_URL: db.url, YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
  const callback = `${stack.url}/api/v1/auth/oidc/callback`;
  const secret = randomBytes(12).toString('hex');
  idp = await startOidcProvider({
    clients: [{ client_id: 'yoke', client_secret: secret, redirect_uris: [callback] }],
    accounts: { alice: { email: 'alice@a.example', name: 'Alice' } },
  });
  const slug = (await stack.api<{ slug: string }>('GET', '/org')).body.slug;
  const put = await stack.api('PUT', '/org/sso', {
    issuer: idp.issuer,
    clientId: 'yoke',
    clientSecret: secret,
    allowedDomains: ['a.example'],
  });
  expect(put.status).toBe(200);
  browser = new Browser();
  const back = await signInAtProvider(browser, `${stack.url}/api/v1/auth/oidc/login?org=${slug}`, 'alice', callback);
  expect((await browser.request(back)).status).toBe(302);
  csrf = decodeURIComponent(browser.cookie(stack.url, CSRF_COOKIE)!);
}, 180_000);

afterAll(async () => {
  await idp?.stop();
  await stack?.stop();
  await db?.drop();
});

describe('yoke login (device authorization)', () => {
  it('logs the CLI in once approved in the browser; whoami, tokens list, logout', async () => {
    const home = tempDir('yoke-cli-login');
    const { proc, userCode } = await startLogin(home);
    expect(proc.lines.join('\n')).toContain(`${stack.url}/api/v1/auth/device/verify`);
    // The page the CLI points at: signed in, it names what asks and for which access; signed out, it asks to sign in.
    const page = await browser.request(`${stack.url}/api/v1/auth/device/verify?code=${userCode}`);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('alice@a.example');
    expect(html).toContain(userCode);
    expect(html).toContain('Approve');
    const anonymous = await (await fetch(`${stack.url}/api/v1/auth/device/verify?code=${userCode}`)).text();
    expect(anonymous).toContain('/api/v1/auth/oidc/login');
    expect(anonymous).not.toContain('alice');

    // What the browser shows before approving; a cookie write without the CSRF token changes nothing.
    const shown = await browser.request(`${stack.url}/api/v1/auth/device?userCode=${userCode.toLowerCase()}`);
    expect(await shown.json()).toMatchObject({ userCode, clientName: 'yoke-cli', scope: 'write', status: 'pending' });
    expect((await decide(userCode, true, false)).status).toBe(403);
    const approved = await decide(userCode, true);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ status: 'approved' });

    expect(await proc.exited).toBe(0);
    expect(proc.lines.join('\n')).toContain('Logged in to');
    expect(proc.lines.join('\n')).toContain('alice@a.example (member)');
    const credPath = join(home, 'credentials.json');
    expect(statSync(credPath).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(credPath, 'utf8')) as { token: string; server: string };
    expect(stored.server).toBe(stack.url);
    // Hashed at rest: the server keeps only the SHA-256 of the token.
    const hash = createHash('sha256').update(stored.token).digest('hex');
    const rows = await sql<{ kind: string; scope: string; expires_at: Date; token_hash: string }>(
      'SELECT kind, scope, expires_at, token_hash FROM api_tokens WHERE token_hash = $1',
      [hash],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'cli', scope: 'write' });
    expect(rows[0].expires_at.getTime()).toBeGreaterThan(Date.now());
    expect(JSON.stringify(await sql('SELECT * FROM api_tokens'))).not.toContain(stored.token);

    const who = await runCli(['whoami'], cliEnv(home));
    expect(who.stderr).toBe('');
    expect(who.stdout).toContain('alice@a.example (member)');
    const list = await runCli(['tokens', 'list', '--json'], cliEnv(home));
    const tokens = JSON.parse(list.stdout) as { kind: string; name: string }[];
    expect(tokens).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'cli' })]));

    const out = await runCli(['logout'], cliEnv(home));
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Logged out');
    const me = await fetch(`${stack.url}/api/v1/me`, { headers: { authorization: `Bearer ${stored.token}` } });
    expect(me.status).toBe(401);
    const after = await runCli(['whoami', '--server', stack.url], cliEnv(home));
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/auth\.unauthenticated/);
  });

  it('a device code yields one token only', async () => {
    const start = await fetch(`${stack.url}/api/v1/auth/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=script&scope=read',
    });
    const code = (await start.json()) as { device_code: string; user_code: string; interval: number };
    const poll = async () => {
      const res = await fetch(`${stack.url}/api/v1/auth/device/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: DEVICE_GRANT_TYPE, device_code: code.device_code }),
      });
      return { status: res.status, body: (await res.json()) as { error?: string; access_token?: string } };
    };
    expect(await poll()).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });
    // Polling faster than the interval is told to slow down.
    expect(await poll()).toMatchObject({ status: 400, body: { error: 'slow_down' } });
    expect((await decide(code.user_code, true)).status).toBe(200);
    const first = await poll();
    expect(first.status).toBe(200);
    expect(first.body.access_token).toMatch(/^ykt_/);
    expect(await poll()).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The read-only grant cannot write.
    const write = await fetch(`${stack.url}/api/v1/org/invitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'x@a.example' }),
    });
    expect(write.status).toBe(403);
    // An answered code cannot be answered again.
    expect((await decide(code.user_code, false)).status).toBe(400);
  });

  it('a denied login ends the CLI with an error and stores nothing', async () => {
    const home = tempDir('yoke-cli-login');
    const { proc, userCode } = await startLogin(home);
    expect((await decide(userCode, false)).status).toBe(200);
    expect(await proc.exited).toBe(2);
    expect(proc.lines.join('\n')).toContain('the login was denied');
    expect(() => statSync(join(home, 'credentials.json'))).toThrow();
  });
});
