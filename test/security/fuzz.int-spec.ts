import {
  AckError,
  DeltaEvent,
  ErrorBody,
  Heartbeat,
  ItemBody,
  JoinSession,
  LeaveSession,
  NS_RUNNER,
  NS_WEB,
  PROTOCOL_VERSION,
  RunnerHello,
  SpawnChild,
  TypingBody,
  WatchAudit,
  WatchOrg,
} from '@yoke/protocol';
import fc from 'fast-check';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import type { RouteEntry } from '../../apps/server/src/modules/auth/route-table';
import type { MatrixApp } from '../support/matrix-app';
import { type MatrixChild, startMatrixApp } from '../support/matrix-child';
import {
  deepNesting,
  EDGE_STRINGS,
  hostileValue,
  type JsonSchema,
  mutate,
  mutation,
  type Plants,
  preview,
  RawJson,
  toJsonText,
  toSocketValue,
  validValue,
} from './fuzz-inputs';

/**
 * Property-based fuzzing of every REST route (read from the app's route table, with the protocol schema each handler
 * parses its body and query with) and every socket event of /web and /runner. Valid inputs and mutations of them
 * (wrong types, missing and extra fields, prototype keys, NUL and lone surrogates, edge numbers, deep nesting, odd
 * path segments and query strings) are sent as org A's owner, a member, an admin and another org's owner.
 * Properties:
 * - never a 5xx; a 4xx carries the typed error body `{ code, message }`;
 * - every socket call is acked in time, with `{ ok: true, … }` or `{ ok: false, error: { code, message } }`, never
 *   `internal`;
 * - a refused request or call stores nothing (row counts of the main tables are unchanged).
 * Bounded and reproducible: a fixed seed (YOKE_FUZZ_SEED overrides it) and YOKE_FUZZ_RUNS runs per route and event.
 */
const SEED = Number(process.env.YOKE_FUZZ_SEED ?? 20_260_611);
const RUNS = Number(process.env.YOKE_FUZZ_RUNS ?? 50);
const ACK_TIMEOUT_MS = 5_000;
/** The tables a request could write to: one query counts them all. */
const TABLES = [
  'orgs',
  'org_policies',
  'users',
  'memberships',
  'api_tokens',
  'runners',
  'runner_enrolments',
  'sessions',
  'session_items',
  'inbox_entries',
  'approvals',
  'invitations',
  'org_sso',
  'identities',
  'web_sessions',
  'oidc_states',
  'device_authorizations',
  'session_links',
  'session_grants',
  'comments',
];
const COUNT_SQL = `SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${t})::int AS ${t}`).join(', ')}`;
/** Replies whose refusals follow another standard than the typed error body (RFC 8628 §3.5 for the token poll). */
const FOREIGN_ERROR_BODIES = new Set(['POST /api/v1/auth/device/token']);
type Caller = 'owner' | 'admin' | 'member' | 'other-org';
const caller: fc.Arbitrary<Caller> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('owner' as const) },
  { weight: 1, arbitrary: fc.constant('admin' as const) },
  { weight: 1, arbitrary: fc.constant('member' as const) },
  { weight: 2, arbitrary: fc.constant('other-org' as const) },
);

let child: MatrixChild;
let app: MatrixApp;
let db: Client;
/** Rows the fuzzer plants: a session of the socket's runner, and org B's rows (valid ids of another org). */
let known: { runnerSession: string; orgB: { org: string; user: string; token: string; session: string } };
const violations: string[] = [];

beforeAll(async () => {
  process.stderr.write(`fuzz seed ${SEED}, ${RUNS} runs per route and event (YOKE_FUZZ_SEED, YOKE_FUZZ_RUNS)\n`);
  child = await startMatrixApp();
  app = child.app;
  db = new Client({ connectionString: app.databaseUrl });
  await db.connect();
  const b = await db.query<{ org: string; user: string; token: string }>(
    `SELECT o.id AS org, t.user_id AS user, t.id AS token FROM orgs o JOIN api_tokens t ON t.org_id = o.id
     WHERE o.slug = 'org-b'`,
  );
  const copy = async (runner: string | null, org: string | null, owner: string | null) =>
    (
      await db.query<{ id: string }>(
        `INSERT INTO sessions (id, org_id, owner_id, runner_id, title, agent, harness)
         SELECT gen_random_uuid(), coalesce($2, org_id), coalesce($3, owner_id), $4, 'fuzz', agent, harness
         FROM sessions WHERE id = $1 RETURNING id`,
        [app.ids.session, org, owner, runner],
      )
    ).rows[0].id;
  const r2 = (await db.query<{ id: string }>(`SELECT id FROM runners WHERE name = 'r2'`)).rows[0].id;
  known = {
    runnerSession: await copy(r2, null, null),
    orgB: { ...b.rows[0], session: await copy(null, b.rows[0].org, b.rows[0].user) },
  };
}, 120_000);

afterAll(async () => {
  if (stats.size) process.stderr.write(`${[...stats].map(([k, n]) => `${String(n).padStart(5)} ${k}`).join('\n')}\n`);
  await db?.end();
  await child?.close();
});

async function counts(): Promise<Record<string, number>> {
  return (await db.query<Record<string, number>>(COUNT_SQL)).rows[0];
}

function changed(before: Record<string, number>, after: Record<string, number>): string[] {
  return TABLES.filter((t) => before[t] !== after[t]).map((t) => `${t} ${before[t]}→${after[t]}`);
}

/** With YOKE_FUZZ_STATS set, how often each target answered what (to see that runs reach past validation). */
const stats = new Map<string, number>();
function tally(key: string, outcome: string): void {
  if (process.env.YOKE_FUZZ_STATS) stats.set(`${key} → ${outcome}`, (stats.get(`${key} → ${outcome}`) ?? 0) + 1);
}

function record(violation: string): void {
  if (violations.length < 200) violations.push(violation);
}

/** A seed per route or event, so one target's runs do not depend on the others. */
function seedFor(key: string): number {
  let h = 2166136261;
  for (const c of key) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (SEED ^ h) >>> 0;
}

/** Ids of org A's rows that each path parameter can name (never the caller's own, on routes that destroy). */
function realIds(route: RouteEntry, name: string, before: string): string[] {
  const destroys = route.method === 'DELETE';
  if (name === 'approvalId') return ['ap1'];
  if (before.endsWith('/sessions/')) return [app.ids.session, known.runnerSession];
  if (destroys) return [];
  if (name === 'userId') return [app.ids.member];
  if (before.endsWith('/tokens/')) return [app.ids.token];
  if (before.endsWith('/invitations/')) return [app.ids.invitation];
  if (before.endsWith('/runners/')) return [app.ids.runner];
  return [];
}

/** Path segments as they go on the wire (already percent-encoded where needed). */
const ODD_SEGMENTS = [
  'x',
  '0',
  '-1',
  'null',
  '__proto__',
  'constructor',
  'a'.repeat(5_000),
  '%2F',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%00',
  '%ZZ',
  '%C0%AE',
  '%F0%9F%98%80',
  '%EF%BB%BF',
  '%E2%80%AE',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
  '%7B6f1c2b4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f%7D',
  '6f1c2b4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f%00',
  '6f1c2b4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f%20',
  '6f1c2b4e1d2a4c3b9e8f0a1b2c3d4e5f',
];

function segment(route: RouteEntry, name: string, before: string): fc.Arbitrary<string> {
  const real = realIds(route, name, before);
  const foreign = [known.orgB.session, known.orgB.user, known.orgB.token, known.orgB.org];
  return fc.oneof(
    ...(real.length ? [{ weight: 8, arbitrary: fc.constantFrom(...real) }] : []),
    { weight: 2, arbitrary: fc.constantFrom(...foreign) },
    { weight: 2, arbitrary: fc.uuid({ version: 4 }) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_SEGMENTS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }).map(encodeURIComponent) },
  );
}

function pathOf(route: RouteEntry): fc.Arbitrary<string> {
  const parts = route.path.split('/');
  return fc
    .tuple(
      ...parts.map((p, i) =>
        p.startsWith(':') ? segment(route, p.slice(1), `${parts.slice(0, i).join('/')}/`) : fc.constant(p),
      ),
    )
    .map((segs) => segs.join('/'));
}

/** Ids a body may name: org A's sessions and member, and org B's rows. */
function plants(): Plants {
  const agentYaml = [
    'name: fuzz\nprompt: hello\n',
    'name: fuzz\nprompt: "a\\0b"\n',
    'name: fuzz\nprompt: hello\nmaxSteps: 1e308\n',
    'name: fuzz\nprompt: hello\ndescription: "\\ud800"\n',
    'name: "fu\\0zz"\nprompt: hello\n',
  ];
  return {
    uuid: fc.constantFrom(
      app.ids.session,
      known.runnerSession,
      app.ids.member,
      app.ids.runner,
      known.orgB.session,
      known.orgB.user,
    ),
    byName: {
      agentYaml: fc.constantFrom(...agentYaml),
      yaml: fc.constantFrom('policies: []\n', 'policies:\n  - name: "a\\0"\n    deny: [shell]\n', ''),
      policiesYaml: fc.constantFrom('- name: p\n  deny: [shell]\n', '- name: "a\\0"\n  deny: [shell]\n'),
      workspace: fc.constantFrom('/tmp', 'ws\u0000x', '.'),
      seq: fc.constantFrom(1, 2, 2_147_483_648, Number.MAX_SAFE_INTEGER),
      afterSeq: fc.constantFrom(0, 2_147_483_647, 2_147_483_648, Number.MAX_SAFE_INTEGER),
    },
  };
}

/** A body to send: valid for the schema, then mutated; or hostile JSON where the route reads none. */
function bodyOf(route: RouteEntry, schema: object | undefined): fc.Arbitrary<RawJson | undefined> {
  // fetch sends no body with a GET (nor does any browser).
  if (route.method === 'GET') return fc.constant(undefined);
  if (!schema) {
    const reads = route.method !== 'DELETE';
    return fc.oneof(
      { weight: reads ? 1 : 6, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: hostileValue.map((v) => new RawJson(toJsonText(v))) },
    );
  }
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .tuple(validValue(schema as JsonSchema, plants()), mutation)
        .map(([v, m]) => new RawJson(toJsonText(mutate(v, m)))),
    },
    // Text no JSON.stringify would write: invalid JSON, NaN, deep nesting, a body past the size limit.
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        new RawJson('{'),
        new RawJson('{"a":NaN}'),
        new RawJson('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'),
        new RawJson('\u0000'),
        new RawJson('"\\u0000"'),
        new RawJson('{"a":1,"a":2}'),
        new RawJson(''),
        deepNesting(50_000, 'array'),
        deepNesting(50_000, 'object'),
        new RawJson(JSON.stringify({ x: 'x'.repeat(3 * 1024 * 1024) })),
      ),
    },
  );
}

function queryValue(v: unknown): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap(queryValue);
  if (typeof v === 'string') return [v];
  return [toJsonText(v)];
}

const ODD_QUERIES = ['', '', '', '&%ZZ=1', '&a[b][c]=1', '&limit=1&limit=2', '&=&&=', '&%00=%00', '&x=%F0%28%8C%28'];

/** A query string: the route's query schema (or the raw fields it reads), valid then mutated, plus odd encodings. */
function queryOf(schema: object | undefined, fields: string[]): fc.Arbitrary<string> {
  const shape: JsonSchema | undefined =
    (schema as JsonSchema | undefined) ??
    (fields.length
      ? { type: 'object', properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])) }
      : undefined);
  const values: fc.Arbitrary<unknown> = shape
    ? fc.tuple(validValue(shape, plants()), mutation).map(([v, m]) => mutate(v, m))
    : fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.constantFrom(...EDGE_STRINGS), { maxKeys: 2 }), {
        nil: {},
      });
  return fc.tuple(values, fc.constantFrom(...ODD_QUERIES)).map(([v, odd]) => {
    const params = new URLSearchParams();
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof RawJson)) {
      for (const k of Object.keys(v))
        for (const s of queryValue((v as Record<string, unknown>)[k])) params.append(k, s);
    } else {
      for (const s of queryValue(v)) params.append('q', s);
    }
    const text = `${params.toString()}${odd}`;
    return text ? `?${text}` : '';
  });
}

function isTypedError(text: string): boolean {
  try {
    return ErrorBody.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

async function send(method: string, url: string, who: Caller, body: RawJson | undefined) {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${app.tokens[who]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body?.text,
  });
  return { status: res.status, text: await res.text() };
}

/** Runs `prop` RUNS times (fewer for targets that spend a credential), never shrinking: requests are costly. */
async function fuzz<T>(key: string, arb: fc.Arbitrary<T>, prop: (v: T) => Promise<void>, runs = RUNS) {
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      await prop(v);
    }),
    { seed: seedFor(key), numRuns: runs, endOnFailure: true },
  );
}

describe('fuzzing', () => {
  // Sockets first: the REST part signs the callers out at its end.
  it('every socket call is acked in time with a typed reply, and a refused call stores nothing', async () => {
    const connect = (ns: string, auth: Record<string, unknown>) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = io(`${app.url}${ns}`, { auth, transports: ['websocket'], reconnection: false });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    const sockets = new Map<string, Socket>();
    const socketFor = async (ns: string, who: Caller | 'runner') => {
      const key = `${ns} ${who}`;
      const open = sockets.get(key);
      if (open?.connected) return open;
      const auth =
        who === 'runner'
          ? { credential: app.socketRunnerCredential, protocolVersion: PROTOCOL_VERSION }
          : { token: app.tokens[who] };
      const socket = await connect(ns, auth);
      sockets.set(key, socket);
      return socket;
    };
    const sessionIds = fc.oneof(
      { weight: 6, arbitrary: fc.constant(known.runnerSession) },
      { weight: 1, arbitrary: fc.constantFrom(app.ids.session, known.orgB.session) },
      { weight: 1, arbitrary: fc.uuid({ version: 4 }) },
    );
    const draft = fc
      .tuple(
        validValue(z.toJSONSchema(ItemBody, { io: 'input' }) as JsonSchema),
        fc.record(
          {
            // Offsets after the session's last seq (see rebase), or absolute edge values.
            seq: fc.oneof(fc.constant(1), fc.constantFrom(2_147_483_648, Number.MAX_SAFE_INTEGER)),
            createdAt: fc
              .date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true })
              .map((d) => d.toISOString()),
            turnId: fc.string({ minLength: 1, maxLength: 10, unit: 'binary' }),
          },
          { requiredKeys: ['seq', 'createdAt'] },
        ),
      )
      .map(([body, envelope]) => ({ ...envelope, ...(body as object) }));
    /** Items of one batch numbered one after another. */
    const drafts = fc
      .array(draft, { minLength: 1, maxLength: 3 })
      .map((items) => items.map((item, i) => ({ ...item, seq: item.seq === 1 ? i + 1 : item.seq })));
    /** Small seqs of a batch for the runner's session count from its current last seq, so batches can land. */
    const rebase = async (payload: unknown) => {
      const batch = payload as { sessionId?: unknown; items?: unknown };
      if (batch?.sessionId !== known.runnerSession || !Array.isArray(batch.items)) return payload;
      const { rows } = await db.query<{ last: number }>('SELECT last_seq AS last FROM sessions WHERE id = $1', [
        known.runnerSession,
      ]);
      for (const item of batch.items as { seq?: unknown }[])
        if (typeof item?.seq === 'number' && item.seq > 0 && item.seq < 100) item.seq += rows[0].last;
      return payload;
    };
    /** Nesting that a recursive parser cannot survive (socket.io's own encoder still can). */
    const deep = (depth: number) => {
      let v: unknown = [];
      for (let i = 0; i < depth; i++) v = [v];
      return v;
    };
    const schemaOf = (s: z.ZodType, uuid = plants().uuid) =>
      validValue(z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as JsonSchema, { ...plants(), uuid });
    /** Each event's payload: valid for its protocol schema (the one its handler parses with), then mutated. */
    const payloads: Record<string, fc.Arbitrary<unknown>> = {
      [`${NS_WEB} session.join`]: schemaOf(JoinSession),
      [`${NS_WEB} session.leave`]: schemaOf(LeaveSession),
      [`${NS_WEB} sessions.watch`]: schemaOf(WatchOrg),
      [`${NS_WEB} audit.watch`]: schemaOf(WatchAudit),
      [`${NS_WEB} presence.typing`]: schemaOf(TypingBody),
      [`${NS_RUNNER} runner.hello`]: schemaOf(RunnerHello, fc.constant(known.runnerSession)),
      [`${NS_RUNNER} runner.heartbeat`]: schemaOf(Heartbeat),
      [`${NS_RUNNER} runner.rotate_credential`]: fc.constant({}),
      [`${NS_RUNNER} session.items`]: fc.record({ sessionId: sessionIds, items: drafts }),
      [`${NS_RUNNER} session.spawn_child`]: schemaOf(SpawnChild, fc.constant(known.runnerSession)),
    };
    const events = app.table.events.map((e) => `${e.namespace} ${e.event}`);
    expect(events.filter((e) => !payloads[e])).toEqual([]);

    for (const key of events) {
      const [ns, event] = key.split(' ');
      const callers: fc.Arbitrary<Caller | 'runner'> = ns === NS_RUNNER ? fc.constant('runner') : caller;
      // A rotation issues a credential each time: a few are enough.
      const runs = event === 'runner.rotate_credential' ? 3 : RUNS;
      const arb = fc.tuple(
        callers,
        fc.tuple(payloads[key], mutation).map(([v, m]) => toSocketValue(mutate(v, m))),
        fc.oneof(
          { weight: 30, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom<unknown>(Buffer.from([0, 255]), 'x', 42, null, [[[]]]) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              { sessionId: known.runnerSession, items: [{ seq: 1, type: 'tool_call', input: deep(2_500) }] },
              { sessionId: known.runnerSession, sessions: deep(2_500), activeSessions: deep(2_500) },
            ),
          },
        ),
      );
      await fuzz(
        key,
        arb,
        async ([who, mutated, odd]) => {
          const payload = await rebase(odd === undefined ? mutated : odd);
          const socket = await socketFor(ns, who);
          // Typing is for those watching the session: join it first, so the call gets past that check.
          const sessionId = (payload as { sessionId?: unknown } | null)?.sessionId;
          if (event === 'presence.typing' && typeof sessionId === 'string')
            await socket
              .timeout(ACK_TIMEOUT_MS)
              .emitWithAck('session.join', { sessionId })
              .catch(() => null);
          const before = await counts();
          let reply: unknown;
          try {
            reply = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
          } catch (err) {
            record(`${key} as ${who}: no ack in ${ACK_TIMEOUT_MS} ms (${String(err)}) for ${preview(payload)}`);
            return;
          }
          const ok = (reply as { ok?: unknown })?.ok === true;
          const refused = AckError.safeParse(reply);
          tally(
            key,
            ok
              ? 'ok'
              : refused.success
                ? `${refused.data.error.code} ${process.env.YOKE_FUZZ_STATS === 'messages' ? refused.data.error.message.slice(0, 80) : ''}`
                : 'untyped',
          );
          if (!ok && !refused.success)
            record(`${key} as ${who}: untyped ack ${preview(reply)} for ${preview(payload)}`);
          if (refused.success && refused.data.error.code === 'internal')
            record(`${key} as ${who}: internal error for ${preview(payload)}`);
          if (!ok) {
            const diff = changed(before, await counts());
            if (diff.length) record(`${key} as ${who}: refused but stored ${diff.join(', ')} for ${preview(payload)}`);
          }
        },
        runs,
      );
    }

    // Deltas carry no ack: a hostile one must change nothing, and the runner's socket must keep answering.
    await fuzz(
      `${NS_RUNNER} session.delta`,
      fc.tuple(schemaOf(DeltaEvent), mutation).map(([v, m]) => toSocketValue(mutate(v, m))),
      async (payload) => {
        const socket = await socketFor(NS_RUNNER, 'runner');
        const before = await counts();
        socket.emit('session.delta', payload);
        const hb = (await socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('runner.heartbeat', { activeSessions: 0 })
          .catch(() => null)) as { ok?: boolean } | null;
        if (hb?.ok !== true)
          record(`${NS_RUNNER} session.delta: the runner stopped answering after ${preview(payload)}`);
        const diff = changed(before, await counts());
        if (diff.length) record(`${NS_RUNNER} session.delta stored ${diff.join(', ')} for ${preview(payload)}`);
      },
    );
    for (const s of sockets.values()) s.close();
    expect(violations).toEqual([]);
  }, 90_000);

  it('every REST route answers below 500, with a typed error when it refuses, and a refusal stores nothing', async () => {
    violations.length = 0;
    // Destructive routes last; signing out (it ends the caller's token) at the very end.
    const order = (r: RouteEntry) => (r.path.endsWith('/auth/logout') ? 2 : r.method === 'DELETE' ? 1 : 0);
    const routes = [...app.table.routes].sort((a, b) => order(a) - order(b));
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const inputs = app.inputs[route.handler] ?? { queryFields: [] };
      const arb = fc.tuple(
        route.rule === 'public' ? fc.constant<Caller>('owner') : caller,
        pathOf(route),
        queryOf(inputs.query, inputs.queryFields),
        bodyOf(route, inputs.body),
      );
      await fuzz(
        key,
        arb,
        async ([who, path, query, body]) => {
          const before = await counts();
          const got = await send(route.method, `${app.url}${path}${query}`, who, body);
          tally(
            key,
            `${got.status} ${got.status >= 400 ? ((JSON.parse(got.text || 'null') as { code?: string } | null)?.code ?? '') : ''}`,
          );
          const what = `${key} as ${who}: ${route.method} ${preview(path + query, 200)} ${preview(body?.text, 200)}`;
          if (got.status >= 500) record(`${what} → ${got.status} ${preview(got.text, 200)}`);
          if (got.status >= 400 && got.status < 500 && !FOREIGN_ERROR_BODIES.has(key) && !isTypedError(got.text))
            record(`${what} → ${got.status} untyped ${preview(got.text, 200)}`);
          if (got.status >= 400) {
            const diff = changed(before, await counts());
            if (diff.length) record(`${what} → ${got.status} but stored ${diff.join(', ')}`);
          }
        },
        route.path.endsWith('/auth/logout') ? 5 : RUNS,
      );
    }
    expect(violations).toEqual([]);
  }, 170_000);
});
