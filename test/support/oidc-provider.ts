/**
 * A real OpenID Provider for tests: `oidc-provider` (certified), with its development login and consent screens,
 * run in a child Node process (it is ES modules only; Jest's runtime loads none). Accounts are given up front; the
 * login form accepts an account id and any password. `tamper({ aud })` makes the token endpoint hand out ID tokens
 * with another audience, signed with the provider's own key, to show that Yoke checks the audience.
 * Loopback only. Also a tiny browser (fetch + cookie jar, redirects followed by hand) to drive the real redirects.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type OidcAccount = { email: string; name?: string; email_verified?: boolean };
export type OidcClient = { client_id: string; client_secret: string; redirect_uris: string[] };
export type OidcProviderOptions = { clients: OidcClient[]; accounts: Record<string, OidcAccount> };

export type TestOidcProvider = {
  issuer: string;
  tamper(change: { aud?: string } | null): Promise<void>;
  stop(): Promise<void>;
};

export async function startOidcProvider(opts: OidcProviderOptions): Promise<TestOidcProvider> {
  // A start that stalls (seen once on a loaded CI machine, between loading the provider and building it) is retried
  // in a new process rather than failing the suite; each try says which step it reached.
  const failures: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      failures.push(`try ${attempt}: ${(err as Error).message}`);
    }
  }
  throw new Error(`the OIDC provider did not start:\n${failures.join('\n')}`);
}

async function startOnce(opts: OidcProviderOptions): Promise<TestOidcProvider> {
  const root = join(__dirname, '../..');
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', join(root, 'test/support/register.js'), __filename, '--serve'],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, YOKE_TEST_OIDC: JSON.stringify(opts) } },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no issuer within 30 s:\n${stderr}`));
    }, 30_000);
    createInterface({ input: child.stdout! }).once('line', (l) => (clearTimeout(timer), resolve(l)));
    void exited.then(
      (code) => (clearTimeout(timer), reject(new Error(`the OIDC provider exited (${code}):\n${stderr}`))),
    );
  });
  const { issuer } = JSON.parse(line) as { issuer: string };
  return {
    issuer,
    async tamper(change) {
      const res = await fetch(`${issuer}/__test/tamper`, { method: 'POST', body: JSON.stringify(change ?? {}) });
      if (res.status !== 204) throw new Error(`tamper failed: ${res.status}`);
    },
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** fetch with a cookie jar; redirects are followed by hand so each hop is visible. */
export class Browser {
  readonly cookies = new Map<string, Map<string, string>>();

  cookie(origin: string, name: string): string | undefined {
    return this.cookies.get(new URL(origin).host)?.get(name);
  }

  cookieHeader(url: string): string {
    const jar = this.cookies.get(new URL(url).host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    const host = new URL(url).host;
    for (const set of res.headers.getSetCookie()) {
      const [pair, ...attrs] = set.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const jar = this.cookies.get(host) ?? new Map<string, string>();
      this.cookies.set(host, jar);
      const maxAge = attrs.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
      const expired = /expires=thu, 01 jan 1970/i.test(set);
      if (value === '' || maxAge === 'max-age=0' || expired) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects until a non-redirect answer or a URL that `stop` matches; returns the hops. */
  async follow(url: string, stop: (url: string) => boolean = () => false, init: RequestInit = {}) {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 20; hops++) {
      const next = new URL(res.headers.get('location') ?? '', current).toString();
      if (stop(next)) return { res, url: current, next };
      current = next;
      res = await this.request(current);
    }
    return { res, url: current, next: undefined };
  }
}

/**
 * Signs in at the provider through its real login and consent forms, starting from a URL that redirects there
 * (Yoke's /auth/oidc/login). Stops before the callback to Yoke, and returns that callback URL.
 */
export async function signInAtProvider(browser: Browser, startUrl: string, accountId: string, callbackPrefix: string) {
  let hop = await browser.follow(startUrl, (u) => u.startsWith(callbackPrefix));
  for (let step = 0; !hop.next && step < 5; step++) {
    const html = await hop.res.text();
    if (hop.res.status !== 200) throw new Error(`the provider answered ${hop.res.status}: ${html.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no form at the provider: ${html.slice(0, 500)}`);
    const form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', accountId);
      form.set('password', 'any');
    }
    const target = new URL(action.replace(/&amp;/g, '&'), hop.url).toString();
    const posted = await browser.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const location = posted.headers.get('location');
    if (!location) throw new Error(`the provider's form answered ${posted.status}: ${await posted.text()}`);
    hop = await browser.follow(new URL(location, target).toString(), (u) => u.startsWith(callbackPrefix));
  }
  if (!hop.next) throw new Error('the provider never redirected back');
  return hop.next;
}

/** Where a start got to, on stderr: shown when a start stalls. */
function step(what: string): void {
  process.stderr.write(`[oidc test provider] ${what} (${Math.round(process.uptime() * 1000)} ms)\n`);
}

async function serve(): Promise<void> {
  const opts = JSON.parse(process.env.YOKE_TEST_OIDC ?? '{}') as OidcProviderOptions;
  // ES modules, loaded through require(esm).
  const { default: Provider } = require('oidc-provider') as { default: new (...args: unknown[]) => ProviderLike };
  step('provider loaded');
  const jose = require('jose') as JoseLike;
  step('jose loaded');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(privateKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'test', alg: 'RS256' };
  step('key made');
  const http = createServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  step('listening');
  const { port } = http.address() as { port: number };
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx: unknown, id: string) => {
      const account = opts.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          email: account.email,
          email_verified: account.email_verified ?? true,
          name: account.name ?? id,
        }),
      };
    },
  });
  let tamper: { aud?: string } = {};
  const key = await jose.importJWK(jwk, 'RS256');
  provider.use(async (ctx: KoaContext, next: () => Promise<void>) => {
    await next();
    if (ctx.path !== '/token' || !tamper.aud || ctx.status !== 200) return;
    const body = ctx.body as { id_token?: string };
    if (!body?.id_token) return;
    const claims = jose.decodeJwt(body.id_token);
    body.id_token = await new jose.SignJWT({ ...claims, aud: tamper.aud })
      .setProtectedHeader({ alg: 'RS256', kid: 'test' })
      .sign(key);
  });
  const handler = provider.callback();
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/__test/tamper' && req.method === 'POST') {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        tamper = JSON.parse(raw || '{}') as { aud?: string };
        res.statusCode = 204;
        res.end();
      });
      return;
    }
    handler(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  process.stdin.on('end', () => http.close(() => process.exit(0)));
  process.stdin.resume();
}

type KoaContext = { path: string; status: number; body: unknown };
type ProviderLike = {
  use(mw: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
};
type JoseLike = {
  importJWK(jwk: object, alg: string): Promise<unknown>;
  decodeJwt(jwt: string): Record<string, unknown>;
  SignJWT: new (claims: Record<string, unknown>) => {
    setProtectedHeader(h: object): { sign(key: unknown): Promise<string> };
  };
};

if (process.argv.includes('--serve')) {
  serve().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
