import { statSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import type { Browser } from 'playwright-core';
import { API_PREFIX, NS_RUNNER, NS_WEB, type SessionPage } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { expectEventually, MODES } from '../support/env';
import { freePort, tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: t\nprompt: Test.\nmodel: claude-sonnet-4-5\n';
const EVIL = 'https://evil.example';
const ALLOWED = 'https://console.yoke.example';

/** What a foreign page can make a browser send: a form (urlencoded or text/plain) or a fetch, always with its Origin. */
async function post(
  stack: Stack,
  path: string,
  init: { body: string; type?: string; origin?: string; site?: string; token?: string | null; cookie?: string },
) {
  const token = init.token === undefined ? stack.token : init.token;
  const res = await fetch(`${stack.url}${API_PREFIX}${path}`, {
    method: 'POST',
    headers: {
      ...(init.type ? { 'content-type': init.type } : {}),
      ...(init.origin ? { origin: init.origin } : {}),
      ...(init.site ? { 'sec-fetch-site': init.site } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.cookie ? { cookie: init.cookie } : {}),
    },
    body: init.body,
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as { code?: string; message?: string } };
}

async function sessionCount(stack: Stack): Promise<number> {
  const r = await stack.api<SessionPage>('GET', '/sessions?limit=100');
  expect(r.status).toBe(200);
  return r.body.sessions.length;
}

/** Connects a socket.io client to a namespace with the given handshake headers; resolves how it ended. */
function handshake(url: string, opts: { origin?: string; auth?: Record<string, unknown> }): Promise<string> {
  return new Promise((resolve) => {
    const s = io(url, {
      transports: ['websocket'],
      reconnection: false,
      // A connection of its own: a shared one would carry an earlier handshake's headers.
      forceNew: true,
      auth: opts.auth ?? {},
      extraHeaders: opts.origin ? { origin: opts.origin } : {},
      timeout: 5_000,
    });
    s.on('connect', () => {
      s.close();
      resolve('connected');
    });
    s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      s.close();
      resolve(`refused: ${err.data?.code ?? err.message}`);
    });
  });
}

describe.each(MODES)('no foreign origin can drive or read Yoke (%s mode)', (mode) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(mode, { YOKE_ALLOWED_ORIGINS: ALLOWED });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const form = (workspace: string) => new URLSearchParams({ agentYaml: AGENT, prompt: 'pwn', workspace }).toString();

  it('refuses cross-site form, text/plain and JSON posts before parsing anything, and stores nothing', async () => {
    const before = await sessionCount(stack);
    const ws = tempDir('ws');
    const cases = [
      { type: 'application/x-www-form-urlencoded', body: form(ws) },
      { type: 'text/plain', body: JSON.stringify({ agentYaml: AGENT, workspace: ws }) },
      {
        type: 'multipart/form-data; boundary=x',
        body: `--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--`,
      },
      { type: 'application/json', body: JSON.stringify({ agentYaml: AGENT, workspace: ws }) },
    ];
    for (const c of cases) {
      // A browser sends the page's Origin; a same-machine page on another port is as foreign as another site.
      for (const origin of [EVIL, 'http://127.0.0.1:1', 'null']) {
        const r = await post(stack, '/sessions', { ...c, origin, site: 'cross-site' });
        expect({ type: c.type, origin, status: r.status, code: r.body.code }).toEqual({
          type: c.type,
          origin,
          status: 403,
          code: 'request.foreign_origin',
        });
      }
    }
    // A browser that hides the Origin but says where it comes from is refused too.
    const hidden = await post(stack, '/sessions', { type: 'text/plain', body: 'x', site: 'same-site' });
    expect(hidden.status).toBe(403);
    expect(await sessionCount(stack)).toBe(before);
  });

  it('takes API writes as JSON only: forms and text are 415 even with a valid credential', async () => {
    const before = await sessionCount(stack);
    const ws = tempDir('ws');
    const urlencoded = await post(stack, '/sessions', { type: 'application/x-www-form-urlencoded', body: form(ws) });
    expect([urlencoded.status, urlencoded.body.code]).toEqual([415, 'request.unsupported_media_type']);
    const text = await post(stack, '/sessions', { type: 'text/plain', body: JSON.stringify({ agentYaml: AGENT }) });
    expect([text.status, text.body.code]).toEqual([415, 'request.unsupported_media_type']);
    const latin1 = await post(stack, '/sessions', {
      type: 'application/json; charset=iso-8859-1',
      body: JSON.stringify({ agentYaml: AGENT }),
    });
    expect(latin1.status).toBe(415);
    expect(await sessionCount(stack)).toBe(before);
  });

  it('refuses a body that is not valid UTF-8 instead of storing replacement characters', async () => {
    const before = await sessionCount(stack);
    const bytes = Buffer.concat([
      Buffer.from(`{"agentYaml":${JSON.stringify(AGENT)},"title":"bad `),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from(`","workspace":${JSON.stringify(tempDir('ws'))}}`),
    ]);
    const res = await fetch(`${stack.url}${API_PREFIX}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: bytes,
    });
    const body = (await res.json()) as { code: string };
    expect([res.status, body.code]).toEqual([400, 'request.invalid_encoding']);
    expect(await sessionCount(stack)).toBe(before);
  });

  it('accepts its own origin and an origin on YOKE_ALLOWED_ORIGINS', async () => {
    for (const origin of [stack.url, ALLOWED]) {
      const r = await post(stack, '/runners/enrolments', {
        type: 'application/json',
        body: JSON.stringify({ name: 'from-a-browser' }),
        origin,
        site: origin === stack.url ? 'same-origin' : 'cross-site',
      });
      expect([origin, r.status]).toEqual([origin, 201]);
    }
  });

  it('refuses socket handshakes to /web and /runner from a foreign origin, whatever the credential', async () => {
    expect(await handshake(`${stack.url}${NS_WEB}`, { auth: { token: stack.token } })).toBe('connected');
    expect(await handshake(`${stack.url}${NS_WEB}`, { origin: stack.url, auth: { token: stack.token } })).toBe(
      'connected',
    );
    for (const origin of [EVIL, 'http://127.0.0.1:1', 'null']) {
      expect(await handshake(`${stack.url}${NS_WEB}`, { origin, auth: { token: stack.token } })).toBe(
        'refused: request.foreign_origin',
      );
      expect(
        await handshake(`${stack.url}${NS_RUNNER}`, { origin, auth: { credential: 'x', protocolVersion: 1 } }),
      ).toBe('refused: request.foreign_origin');
      expect(await handshake(stack.url, { origin })).toBe('refused: request.foreign_origin');
    }
    expect(await handshake(`${stack.url}${NS_WEB}`, { origin: ALLOWED, auth: { token: stack.token } })).toBe(
      'connected',
    );
  });

  it('answers a request its HTTP parser refuses with a typed error too', async () => {
    const res = await fetch(`${stack.url}${API_PREFIX}/sessions`, { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(((await res.json()) as { code: string }).code).toBe('request.too_large');
  });

  it('has no credential-free user: no token, a wrong token or a forged cookie is 401, on REST and socket', async () => {
    for (const token of [null, 'ykl_wrong', `${stack.token}x`]) {
      expect((await stack.api('GET', '/sessions', undefined, token)).status).toBe(401);
      expect(await handshake(`${stack.url}${NS_WEB}`, { auth: token ? { token } : {} })).toMatch(/^refused: auth\./);
    }
    const forged = await fetch(`${stack.url}${API_PREFIX}/sessions`, { headers: { cookie: 'yoke_local=forged' } });
    expect(forged.status).toBe(401);
  });
});

describe('embedded mode: the local credential', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('embedded');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps the secret in a 0600 file in its home', () => {
    const file = join(stack.home, 'local-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).uid).toBe(process.getuid!());
  });

  it('turns the printed link into an httpOnly SameSite=Strict cookie once, and drops the secret from the address', async () => {
    const wrong = await fetch(`${stack.url}/?token=ykl_wrong`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const res = await fetch(`${stack.url}/session/?id=abc&token=${stack.token}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/session/?id=abc');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^yoke_local=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(stack.token);
    const pair = cookie.split(';')[0];

    const list = await fetch(`${stack.url}${API_PREFIX}/sessions`, { headers: { cookie: pair } });
    expect(list.status).toBe(200);
    expect(await handshake(`${stack.url}${NS_WEB}`, { origin: stack.url, auth: {} })).toMatch(/^refused/);
    // The cookie is a credential only with this server's own origin: a write from anywhere else is refused.
    const write = await post(stack, '/sessions', {
      type: 'application/json',
      body: JSON.stringify({ agentYaml: AGENT, workspace: tempDir('ws') }),
      origin: 'http://127.0.0.1:1',
      site: 'same-site',
      token: null,
      cookie: pair,
    });
    expect(write.status).toBe(403);
  });

  it('never writes the secret into its log, even when a client puts it in a query string', async () => {
    await fetch(`${stack.url}${API_PREFIX}/sessions?token=${stack.token}`);
    await fetch(`${stack.url}/session/?token=${stack.token}`, { redirect: 'manual' });
    await expectEventually(() => stack.server.lines.some((l) => l.includes('/api/v1/sessions?token=')));
    expect(stack.server.lines.join('\n')).not.toContain(stack.token);
  });

  it('answers only to loopback Host names (a DNS-rebound name gets nothing)', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${stack.url}${API_PREFIX}/sessions`);
        const req = httpRequest(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            headers: { host, authorization: `Bearer ${stack.token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await status('rebound.example:80')).toBe(403);
    expect(await status(new URL(stack.url).host)).toBe(200);
  });
});

describe('in a real browser: a page from another origin cannot start or watch a session (embedded)', () => {
  let stack: Stack;
  let browser: Browser;
  let evil: Server;
  let evilUrl: string;

  beforeAll(async () => {
    stack = await startStack('embedded');
    browser = await launchBrowser();
    const port = await freePort();
    evilUrl = `http://127.0.0.1:${port}`;
    // Same machine, another port: same-site for the browser, so even a SameSite cookie would travel with the post.
    evil = createServer((req, res) => {
      const target = `${stack.url}${API_PREFIX}/sessions`;
      res.setHeader('content-type', 'text/html');
      if (req.url?.startsWith('/form')) {
        res.end(
          `<form id="f" method="POST" action="${target}" enctype="${req.url.includes('text') ? 'text/plain' : 'application/x-www-form-urlencoded'}">` +
            `<input name="agentYaml" value="${AGENT.replace(/\n/g, '&#10;')}"><input name="prompt" value="pwn">` +
            `<input name="workspace" value="/tmp"></form><script>document.getElementById('f').submit()</script>`,
        );
        return;
      }
      res.end(
        `<script>
          window.result = new Promise((resolve) => {
            const ws = new WebSocket('${stack.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket');
            ws.onopen = () => ws.send('40/web,');
            ws.onmessage = (m) => { if (String(m.data).startsWith('40/web')) resolve('joined: ' + m.data); else if (String(m.data).startsWith('44')) resolve('refused: ' + m.data); };
            ws.onerror = () => resolve('refused: error');
            ws.onclose = () => resolve('refused: closed');
          });
        </script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(port, '127.0.0.1', r));
  });
  afterAll(async () => {
    await browser?.close();
    evil?.close();
    await stack?.stop();
  });

  it('refuses the form posts and the socket even though the browser holds the local cookie', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${stack.url}/?token=${stack.token}`);
    expect((await ctx.cookies(stack.url)).map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([
      ['yoke_local', true, 'Strict'],
    ]);
    const before = await sessionCount(stack);
    for (const kind of ['urlencoded', 'text']) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/sessions'));
      await page.goto(`${evilUrl}/form-${kind}`);
      expect((await answer).status()).toBe(403);
    }
    await page.goto(`${evilUrl}/socket`);
    expect(await page.evaluate('window.result')).toMatch(/^refused/);
    expect(await sessionCount(stack)).toBe(before);
    // The same browser on Yoke's own page is the local user.
    const own = await page.goto(`${stack.url}${API_PREFIX}/sessions`);
    expect(own?.status()).toBe(200);
    await ctx.close();
  });
});
