import fc from 'fast-check';
import type { z } from 'zod';
import { MAX_SEQ } from './common';
import { AppError, ErrorCode } from './errors';
import type { PartialItem } from './items';
import type { Session } from './session';
import {
  EmptyAck,
  HeartbeatAck,
  HelloAck,
  InboxAck,
  ItemsAck,
  JoinAck,
  RotateCredentialAck,
  SpawnChildAck,
  WorkspaceListAck,
  WorkspaceReadAck,
} from './sockets';

/** What crosses a socket: JSON (undefined fields vanish, -0 becomes 0). */
const wire = <T>(value: T): unknown => JSON.parse(JSON.stringify(value));

const uuid = fc.uuid();
const seq = fc.integer({ min: 0, max: MAX_SEQ });
const isoDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const text = fc.string({ maxLength: 40 });

const session = (id: string, lastSeq: number, status: Session['status']): Session => ({
  id,
  orgId: '22222222-2222-4222-8222-222222222222',
  ownerId: '33333333-3333-4333-8333-333333333333',
  title: 'fix the build',
  agent: {
    name: 'helper',
    prompt: 'You help.',
    harness: 'yoke',
    maxSteps: 50,
    tools: { shell: true, files: true, web: false, mcp: {} },
    agents: {},
    policies: [],
    sandbox: { network: { allow: [] }, credentials: [] },
  },
  harness: 'yoke',
  model: null,
  runnerId: '44444444-4444-4444-8444-444444444444',
  runnerOnline: true,
  runnerName: 'laptop',
  runnerRevoked: false,
  status,
  statusReason: null,
  parentId: null,
  forkedFrom: null,
  lastSeq,
  costUsd: 0,
  inputTokens: 0,
  outputTokens: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
});

/** Item bodies of the kinds a session stores most, each with the fields the runner sends. */
const itemBody = fc.oneof(
  fc.record({ type: fc.constant('agent_message' as const), text }),
  fc.record({ type: fc.constant('notice' as const), level: fc.constantFrom('info', 'warning', 'error'), text }),
  fc.record({ type: fc.constant('turn_started' as const), turnId: fc.constant('t1') }),
  fc.record({
    type: fc.constant('tool_call' as const),
    callId: fc.constant('c1'),
    tool: fc.constant('shell'),
    nativeTool: fc.constant('Bash'),
    input: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(text, fc.integer(), fc.boolean())),
    status: fc.constantFrom('pending', 'running', 'completed', 'failed', 'denied'),
  }),
  fc.record({
    type: fc.constant('command' as const),
    callId: fc.constant('c1'),
    argv: fc.array(text, { maxLength: 4 }),
    cwd: fc.constant('/work'),
    exitCode: fc.option(fc.integer({ min: 0, max: 255 })),
    output: text,
  }),
);

const item = (sessionId: string) =>
  fc
    .tuple(
      fc.integer({ min: 1, max: MAX_SEQ }),
      isoDate,
      itemBody,
      fc.option(fc.record({ id: fc.constant('u1'), name: fc.constant('Ada') }), { nil: undefined }),
    )
    .map(([s, createdAt, body, actor]) => ({ seq: s, sessionId, createdAt, ...(actor ? { actor } : {}), ...body }));

const partial: fc.Arbitrary<PartialItem> = fc.record(
  {
    type: fc.constantFrom('agent_message_delta', 'reasoning_delta', 'command_output_delta'),
    turnId: fc.constant('t1'),
    streamId: fc.string({ minLength: 1, maxLength: 10 }),
    callId: fc.constant('c1'),
    afterSeq: seq,
    text,
  },
  { requiredKeys: ['type', 'turnId', 'streamId', 'afterSeq', 'text'] },
);

const listing = fc.record({
  path: text,
  entries: fc.array(
    fc.record({ name: text, path: text, kind: fc.constantFrom('file', 'dir', 'other'), size: fc.nat() }),
    { maxLength: 5 },
  ),
  truncated: fc.boolean(),
});

/**
 * Each ack with what the server's `answer()` sends when the handler succeeds: `{ ok: true, ...result }`, the result
 * built the way its handler builds it (the runner's, for the acks the runner sends).
 */
const ACKS: Record<string, { schema: z.ZodType; ok: fc.Arbitrary<Record<string, unknown>> }> = {
  HelloAck: {
    schema: HelloAck,
    ok: fc.record({
      runnerId: uuid,
      sessions: fc.array(fc.record({ sessionId: uuid, persistedSeq: seq }), { maxLength: 5 }),
    }),
  },
  HeartbeatAck: { schema: HeartbeatAck, ok: fc.record({ at: isoDate }) },
  ItemsAck: { schema: ItemsAck, ok: fc.record({ lastSeq: seq }) },
  RotateCredentialAck: {
    schema: RotateCredentialAck,
    ok: fc.record({ credential: fc.string({ minLength: 1 }).map((s) => `ykr_${s}`) }),
  },
  SpawnChildAck: { schema: SpawnChildAck, ok: fc.record({ sessionId: uuid, created: fc.boolean() }) },
  InboxAck: { schema: InboxAck, ok: fc.record({ applied: fc.boolean() }) },
  WorkspaceListAck: { schema: WorkspaceListAck, ok: fc.record({ listing }) },
  WorkspaceReadAck: {
    schema: WorkspaceReadAck,
    ok: fc.record({
      file: fc.record({ path: text, size: fc.nat(), content: text, isBinary: fc.boolean(), truncated: fc.boolean() }),
    }),
  },
  JoinAck: {
    schema: JoinAck,
    ok: fc
      .tuple(uuid, seq, fc.constantFrom('idle', 'running', 'waiting_approval', 'paused', 'failed', 'archived' as const))
      .chain(([id, lastSeq, status]) =>
        fc.record({
          session: fc.constant(session(id, lastSeq, status)),
          items: fc.array(item(id), { maxLength: 6 }),
          partials: fc.array(partial, { maxLength: 3 }),
          hasMore: fc.boolean(),
        }),
      ),
  },
  EmptyAck: { schema: EmptyAck, ok: fc.constant({}) },
};

/** What `toAckError` sends: an AppError's body, or an internal error with a correlation id. */
const refusal = fc
  .tuple(
    fc.constantFrom(...ErrorCode.options),
    text,
    fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(text, fc.integer())), { nil: undefined }),
    fc.option(uuid, { nil: undefined }),
  )
  .map(([code, message, details, correlationId]) => ({
    ok: false as const,
    error: new AppError(code, message, details).toBody(correlationId),
  }));

describe.each(Object.entries(ACKS))('%s', (_name, { schema, ok }) => {
  it('accepts every ok reply the server sends, unchanged', () => {
    fc.assert(
      fc.property(ok, (body) => {
        const sent = wire({ ok: true, ...body });
        const parsed = schema.safeParse(sent);
        expect(parsed.error).toBeUndefined();
        expect(parsed.data).toEqual(sent);
      }),
    );
  });

  it('accepts every refusal, whatever its code', () => {
    fc.assert(
      fc.property(refusal, (reply) => {
        expect(schema.safeParse(wire(reply)).data).toEqual(wire(reply));
      }),
    );
  });

  it('refuses an ok reply missing a field, or with one the protocol does not name', () => {
    fc.assert(
      fc.property(ok, fc.nat(), (body, k) => {
        const keys = Object.keys(body);
        if (keys.length > 0) {
          const missing: Record<string, unknown> = { ok: true, ...body };
          delete missing[keys[k % keys.length]];
          expect(schema.safeParse(wire(missing)).success).toBe(false);
        }
        expect(schema.safeParse(wire({ ok: true, ...body, unexpected: 1 })).success).toBe(false);
      }),
    );
  });

  it('refuses a reply without a boolean `ok`, a success carrying an error, and a refusal without one', () => {
    fc.assert(
      fc.property(ok, refusal, (body, no) => {
        const { ok: _ok, ...rest } = { ok: true, ...body };
        expect(schema.safeParse(wire(rest)).success).toBe(false);
        expect(schema.safeParse(wire({ ...body, ok: 'true' })).success).toBe(false);
        expect(schema.safeParse(wire({ ok: true, ...body, error: no.error })).success).toBe(false);
        expect(schema.safeParse({ ok: false }).success).toBe(false);
        expect(schema.safeParse({ ok: false, error: { ...no.error, code: 'no.such_code' } }).success).toBe(false);
        expect(schema.safeParse({ ok: false, error: { code: no.error.code } }).success).toBe(false);
      }),
    );
  });

  it('refuses what is not an object', () => {
    for (const v of [null, undefined, 'ok', 1, true, []]) expect(schema.safeParse(v).success).toBe(false);
  });
});

describe('the ack fields that carry meaning', () => {
  const SESSION = '11111111-1111-4111-8111-111111111111';

  it('a hello ack needs a runner id and, per session, a stored seq a Postgres integer holds', () => {
    const ok = { ok: true, runnerId: SESSION, sessions: [{ sessionId: SESSION, persistedSeq: 3 }] };
    expect(HelloAck.safeParse(ok).success).toBe(true);
    expect(HelloAck.safeParse({ ...ok, runnerId: 'runner-1' }).success).toBe(false);
    for (const persistedSeq of [-1, 1.5, MAX_SEQ + 1, '3', null]) {
      expect(HelloAck.safeParse({ ...ok, sessions: [{ sessionId: SESSION, persistedSeq }] }).success).toBe(false);
    }
  });

  it('a heartbeat ack carries an ISO date', () => {
    expect(HeartbeatAck.safeParse({ ok: true, at: '2026-01-01T00:00:00.000Z' }).success).toBe(true);
    expect(HeartbeatAck.safeParse({ ok: true, at: 'yesterday' }).success).toBe(false);
    expect(HeartbeatAck.safeParse({ ok: true, at: 1767225600000 }).success).toBe(false);
  });

  it("a join ack's items are parsed as stored items: envelope and body, each strict", () => {
    const reply = {
      ok: true,
      session: session(SESSION, 2, 'idle'),
      items: [
        { seq: 1, sessionId: SESSION, createdAt: '2026-01-01T00:00:00.000Z', turnId: 't1', type: 'turn_started' },
        { seq: 2, sessionId: SESSION, createdAt: '2026-01-01T00:00:00.000Z', type: 'agent_message', text: 'hi' },
      ],
      partials: [],
      hasMore: false,
    };
    expect(JoinAck.parse(reply)).toEqual(reply);
    const [turn, message] = reply.items;
    const bad = [
      { ...message, extra: 1 }, // unknown body field
      { ...message, sessionId: undefined }, // a stored item names its session
      { ...turn, turnId: undefined }, // a turn item needs its turn
      { ...message, seq: 0 },
      { ...message, type: 'teleport' },
    ];
    for (const item of bad) expect(JoinAck.safeParse(wire({ ...reply, items: [item] })).success).toBe(false);
    expect(JoinAck.safeParse({ ...reply, session: { ...reply.session, title: undefined } }).success).toBe(false);
    expect(JoinAck.safeParse({ ...reply, partials: [{ type: 'agent_message_delta', text: 'x' }] }).success).toBe(false);
  });

  it('a spawn_child ack names the child session by its id', () => {
    expect(SpawnChildAck.safeParse({ ok: true, sessionId: SESSION, created: true }).success).toBe(true);
    expect(SpawnChildAck.safeParse({ ok: true, sessionId: 'child', created: true }).success).toBe(false);
    expect(SpawnChildAck.safeParse({ ok: true, sessionId: SESSION, created: 'yes' }).success).toBe(false);
  });

  it('a rotated credential is a string', () => {
    expect(RotateCredentialAck.safeParse({ ok: true, credential: 'ykr_abc' }).success).toBe(true);
    expect(RotateCredentialAck.safeParse({ ok: true, credential: null }).success).toBe(false);
  });
});
