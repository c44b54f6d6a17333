import { randomUUID } from 'node:crypto';
import { CSRF_HEADER, NS_RUNNER, NS_WEB, PROTOCOL_VERSION, type OrgRole, SESSION_COOKIE } from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';
import type { EventEntry, RouteEntry } from '../apps/server/src/modules/auth/route-table';
import { admits } from '../apps/server/src/core/auth/access';
import type { MatrixApp, MatrixCaller } from './support/matrix-app';
import { type MatrixChild, startMatrixApp } from './support/matrix-child';

/**
 * The authorization matrix: every REST route and every socket event the app serves (read from Nest's metadata, so
 * a new route is in here without anyone listing it) × {anonymous, auditor, member, admin, owner, owner of another
 * org, a share-link guest of the seeded session}. A route without an @Allow rule fails the first test. Expectations
 * follow from the rule alone:
 * - below the rule: 401 `auth.unauthenticated` (anonymous) or 403 `auth.forbidden`;
 * - at or above it: never an auth refusal;
 * - another org's caller on a route naming a resource of this org: 404, never 403 (it cannot learn it exists);
 * - a link guest: 403 on every route and event not marked @GuestAllowed; on those, its viewer role in the session.
 * The API runs in a child Node process (test/support/matrix-app.ts): Nest 12 is ES modules only, which Node loads
 * through require(esm) but Jest's module runtime does not.
 */
type Caller = MatrixCaller;
const CALLERS: Caller[] = ['anonymous', 'other-org', 'guest', 'auditor', 'member', 'admin', 'owner'];
const DENIALS = new Set(['auth.unauthenticated', 'auth.forbidden', 'auth.invalid_token', 'auth.csrf_failed']);
const GLOBAL_PREFIX = 'api/v1';
/** `domain.verb`, as libs/protocol's AuditAction. */
const AUDIT_ACTION = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;

type Child = MatrixChild;

let child: Child;
let t: { url: string };
let table: { routes: RouteEntry[]; events: EventEntry[] };
let tokens: MatrixApp['tokens'];
let ids: MatrixApp['ids'];
let socketRunnerCredential = '';

beforeAll(async () => {
  child = await startMatrixApp();
  ({ table, tokens, ids } = child.app);
  socketRunnerCredential = child.app.socketRunnerCredential;
  t = { url: child.app.url };
}, 120_000);

afterAll(async () => {
  await child?.close();
});

/** A resource of org A for each path parameter; a fresh uuid for anything unknown (it must 404 too). */
function fill(path: string): { path: string; namesResource: boolean } {
  let namesResource = false;
  const filled = path.replace(/:(\w+)/g, (_, name: string, offset: number) => {
    namesResource = true;
    const before = path.slice(0, offset);
    if (name === 'approvalId') return ids.approval;
    if (name === 'userId') return ids.member;
    if (before.endsWith('/sessions/')) return ids.session;
    if (before.endsWith('/runners/')) return ids.runner;
    if (before.endsWith('/tokens/')) return ids.token;
    if (before.endsWith('/invitations/')) return ids.invitation;
    return randomUUID();
  });
  return { path: filled, namesResource };
}

/** Valid bodies where a route needs one to reach its service (so another org's caller meets the 404). */
function sampleBody(method: string, path: string): unknown {
  const key = `${method} ${path.replace(`/${GLOBAL_PREFIX}`, '')}`;
  const samples: Record<string, unknown> = {
    'POST /sessions/:id/messages': { text: 'hello' },
    'POST /sessions/:id/cancel': {},
    'POST /sessions/:id/approvals/:approvalId': { decision: 'approve' },
    'PATCH /org/members/:userId': { role: 'member' },
    'POST /orgs': { slug: `o-${randomUUID().slice(0, 8)}`, name: 'O' },
    'POST /tokens': { name: 'x', scope: 'read' },
    'POST /audit/sinks': { name: 'siem', kind: 'webhook', url: 'http://127.0.0.1:9/audit' },
    'PATCH /audit/sinks/:id': { enabled: false },
    'PUT /org/retention': { sessionContentDays: 3650, auditContentDays: null },
    // Another org's caller names a session it cannot see: 404, as for any resource of this org.
    'POST /org/legal-holds': { scope: 'session', targetId: ids.session, reason: 'matrix' },
    // Each org role that may create one gets its own agent budget (one budget per scope and target).
    'POST /org/budgets': { scope: 'agent', target: `matrix-${randomUUID()}`, capMicros: 1_000_000 },
    'PATCH /org/budgets/:id': { capMicros: 2_000_000 },
    'PUT /org/sso': {
      issuer: 'http://127.0.0.1:9/',
      clientId: 'c',
      clientSecret: 's',
      allowedDomains: ['a.example'],
    },
  };
  return samples[key] ?? (method === 'GET' || method === 'DELETE' ? undefined : {});
}

async function call(method: string, path: string, caller: Caller, body: unknown) {
  const token = caller === 'anonymous' ? undefined : tokens[caller];
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

type Want = 'allowed' | 'session-role' | 401 | 403 | 404;

/**
 * What the org rule says. Past it, a route on one session also applies the caller's role in that session (the
 * seeded session belongs to the org owner; admins and auditors watch it as viewers, members without a grant do not
 * see it): `session-role` accepts the session layer's own refusal (403 for a role too low, 404 when unseen).
 */
function expected(
  rule: RouteEntry['rule'],
  caller: Caller,
  namesResource: boolean,
  path = '',
  guestAllowed = false,
): Want {
  if (rule === 'public') return 'allowed';
  if (caller === 'anonymous') return 401;
  if (rule === 'runner') return 403;
  if (caller === 'guest') return guestAllowed ? 'session-role' : 403;
  if (caller === 'other-org') return namesResource ? 404 : 'allowed';
  if (!admits(rule as OrgRole | 'audit', caller)) return 403;
  return caller !== 'owner' && /\/sessions\/:id\//.test(path) ? 'session-role' : 'allowed';
}

/** Past the guard: no access refusal (a 401/403 of the route's own, such as a failed sign-in, names its code). */
function isAllowed(got: { status: number; code?: string }): boolean {
  if (DENIALS.has(got.code ?? '')) return false;
  return (got.status !== 401 && got.status !== 403) || got.code !== undefined;
}

/** Query strings a route needs to reach its service. */
function sampleQuery(method: string, path: string): string {
  const key = `${method} ${path.replace(`/${GLOBAL_PREFIX}`, '')}`;
  const samples: Record<string, string> = {
    'GET /sessions/:id/files/content': '?path=README.md',
    // Usage reports: any org role past the guard (a member gets their own rows); guests and anonymous callers never.
    'GET /usage': '?by=user',
  };
  return samples[key] ?? '';
}

describe('authorization matrix', () => {
  it('every REST route and socket event declares an @Allow rule', () => {
    expect(table.routes.length).toBeGreaterThan(10);
    expect(child.app.missing).toEqual([]);
  });

  it('every REST route and socket event declares the audit events it writes, or why it writes none', () => {
    expect(child.app.undeclared).toEqual([]);
    for (const entry of [...table.routes, ...table.events]) {
      const audit = entry.audit!;
      if ('actions' in audit) for (const action of audit.actions) expect(action).toMatch(AUDIT_ACTION);
      else expect(audit.none.trim()).not.toBe('');
    }
  });

  it('every /web socket event answers each caller as its rule says; humans never reach /runner', async () => {
    const failures: string[] = [];
    const connect = (ns: string, auth: Record<string, unknown>) =>
      new Promise<{ socket: Socket; error?: string }>((resolve) => {
        const socket = io(`${t.url}${ns}`, { auth, transports: ['websocket'], reconnection: false });
        socket.once('connect', () => resolve({ socket }));
        socket.once('connect_error', (err: Error & { data?: { code?: string } }) =>
          resolve({ socket, error: err.data?.code ?? err.message }),
        );
      });
    for (const caller of CALLERS) {
      const auth = caller === 'anonymous' ? {} : { token: tokens[caller] };
      const web = await connect(NS_WEB, auth);
      for (const ev of table.events.filter((e) => e.namespace === NS_WEB)) {
        // A guest's events name its own session, where its viewer role lets it join, watch and type.
        const rest = expected(ev.rule, caller, true, '', ev.guestAllowed);
        const want = rest === 'session-role' ? 'allowed' : rest;
        if (web.error) {
          if (want !== 401) failures.push(`${NS_WEB} handshake as ${caller}: ${web.error}`);
          continue;
        }
        const emit = async (sessionId: string) => {
          const reply = (await web.socket.timeout(5000).emitWithAck(ev.event, { sessionId })) as {
            ok: boolean;
            error?: { code: string };
          };
          return reply.ok ? 'ok' : (reply.error?.code ?? '?');
        };
        const code = await emit(ids.session);
        // Another org's session answers exactly as a session that does not exist: nothing tells them apart.
        const ok =
          want === 'allowed'
            ? !DENIALS.has(code)
            : want === 404
              ? !DENIALS.has(code) && code === (await emit(randomUUID()))
              : DENIALS.has(code);
        if (!ok) failures.push(`${NS_WEB} ${ev.event} as ${caller}: expected ${want}, got ${code}`);
      }
      web.socket.close();
      const runner = await connect(NS_RUNNER, {
        credential: tokens[caller as 'owner'] ?? 'none',
        protocolVersion: PROTOCOL_VERSION,
      });
      if (!runner.error) failures.push(`${NS_RUNNER} accepted ${caller}'s credential`);
      runner.socket.close();
    }
    // The runner itself reaches its events; no runner event is open to anyone else.
    const runner = await connect(NS_RUNNER, { credential: socketRunnerCredential, protocolVersion: PROTOCOL_VERSION });
    expect(runner.error).toBeUndefined();
    const hb = (await runner.socket.timeout(5000).emitWithAck('runner.heartbeat', {})) as { ok: boolean };
    expect(hb.ok).toBe(true);
    runner.socket.close();
    for (const ev of table.events.filter((e) => e.namespace === NS_RUNNER)) {
      if (ev.rule !== 'runner') failures.push(`${NS_RUNNER} ${ev.event} has rule ${ev.rule}, not runner`);
    }
    expect(failures).toEqual([]);
  });

  // Runs after the socket part: it signs every caller out at the end.
  it('every REST route answers each caller as its rule says', async () => {
    // Destructive routes last, so every other route still finds its resources; signing out ends the callers' tokens.
    const order = (r: RouteEntry) => (r.path.endsWith('/auth/logout') ? 2 : r.method === 'DELETE' ? 1 : 0);
    const routes = [...table.routes].filter((r) => r.rule).sort((a, b) => order(a) - order(b));
    const failures: string[] = [];
    const lines: string[] = [];
    for (const route of routes) {
      const { path, namesResource } = fill(route.path);
      const cells: string[] = [];
      for (const caller of CALLERS) {
        const want = expected(route.rule, caller, namesResource, route.path, route.guestAllowed);
        const query = sampleQuery(route.method, route.path);
        const got = await call(route.method, path + query, caller, sampleBody(route.method, route.path));
        cells.push(`${caller}=${got.status}`);
        const ok =
          want === 'allowed'
            ? isAllowed(got)
            : want === 'session-role'
              ? (got.status === 403 && got.code === 'auth.forbidden') || got.status === 404 || isAllowed(got)
              : want === 404
                ? got.status === 404 ||
                  (got.status === 400 &&
                    sampleBody(route.method, route.path) !== undefined &&
                    got.code === 'request.invalid' &&
                    !knownSample(route))
                : got.status === want && DENIALS.has(got.code ?? '');
        if (!ok)
          failures.push(
            `${route.method} ${route.path} as ${caller}: expected ${want}, got ${got.status} ${got.code ?? ''}`,
          );
      }
      lines.push(
        `${route.method.padEnd(6)} ${route.path.padEnd(48)} ${String(route.rule).padEnd(8)} ${cells.join(' ')}`,
      );
    }
    if (process.env.YOKE_TEST_VERBOSE) process.stderr.write(`${lines.join('\n')}\n`);
    expect(failures).toEqual([]);
  });
});

describe('browser sessions', () => {
  it('every write route refuses a cookie-authenticated call without the CSRF token, and reads need none', async () => {
    const { ownerCookie } = child.app;
    const cookie = `${SESSION_COOKIE}=${encodeURIComponent(ownerCookie.value)}`;
    const failures: string[] = [];
    const guarded = table.routes.filter((r) => r.rule && r.rule !== 'public' && r.rule !== 'runner');
    for (const route of guarded) {
      const { path } = fill(route.path);
      const res = await fetch(`${t.url}${path}${sampleQuery(route.method, route.path)}`, {
        method: route.method,
        headers: { cookie, 'content-type': 'application/json' },
        body: route.method === 'GET' ? undefined : JSON.stringify(sampleBody(route.method, route.path) ?? {}),
      });
      const code = ((await res.json().catch(() => ({}))) as { code?: string }).code;
      const write = !['GET', 'HEAD', 'OPTIONS'].includes(route.method);
      if (write && (res.status !== 403 || code !== 'auth.csrf_failed'))
        failures.push(`${route.method} ${route.path}: a write without CSRF got ${res.status} ${code ?? ''}`);
      if (!write && DENIALS.has(code ?? ''))
        failures.push(`${route.method} ${route.path}: a read with the cookie got ${res.status} ${code ?? ''}`);
    }
    expect(failures).toEqual([]);
    // With the token, a write goes through.
    const ok = await fetch(`${t.url}/${GLOBAL_PREFIX}/tokens`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', [CSRF_HEADER]: ownerCookie.csrf },
      body: JSON.stringify({ name: 'from-browser' }),
    });
    expect(ok.status).toBe(201);
  });
});

describe('a route without a rule or an audit declaration', () => {
  let unruled: Child;
  beforeAll(async () => {
    unruled = await startMatrixApp(['--unruled']);
  }, 120_000);
  afterAll(async () => {
    await unruled?.close();
  });

  it('a route without an audit declaration fails the matrix, naming it', () => {
    const { undeclared } = unruled.app;
    expect(undeclared).toEqual([`GET /${GLOBAL_PREFIX}/matrix-unruled/undeclared (UnruledController.undeclared)`]);
    // The same assertion the matrix makes on the real app fails here.
    expect(() => expect(undeclared).toEqual([])).toThrow();
  });

  it('fails the matrix, naming the route, and is refused to everyone, the owner included', async () => {
    const { missing } = unruled.app;
    expect(missing).toEqual([`GET /${GLOBAL_PREFIX}/matrix-unruled (UnruledController.open)`]);
    // The same assertion the matrix makes on the real app fails here.
    expect(() => expect(missing).toEqual([])).toThrow();
    for (const token of [undefined, unruled.app.tokens.owner]) {
      const res = await fetch(`${unruled.app.url}/${GLOBAL_PREFIX}/matrix-unruled`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('auth.forbidden');
    }
  });
});

function knownSample(route: RouteEntry): boolean {
  return (
    sampleBody(route.method, route.path) !== undefined &&
    !['{}'].includes(JSON.stringify(sampleBody(route.method, route.path)))
  );
}
