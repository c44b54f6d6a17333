import { z } from 'zod';
import { Actor, BoundedText, IsoDate, Seq, Uuid } from './common';
import { ApprovalDecision } from './approvals';
import { MeteredApi, MeteredProvider, TokenCount } from './governance';
import { ToolKind } from './tools';

export const ContentPart = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: BoundedText }),
  z.strictObject({
    type: z.literal('file'),
    path: z.string().min(1).max(4096),
    mediaType: z.string().max(200).optional(),
    content: BoundedText.optional(),
  }),
]);
export type ContentPart = z.infer<typeof ContentPart>;

const ToolCallStatus = z.enum(['pending', 'running', 'completed', 'failed', 'denied']);
export const TurnStopReason = z.enum(['end_turn', 'max_turns', 'cancelled', 'refusal']);
const JsonValue: z.ZodType<unknown> = z.json();

/** Payload of each persisted item kind, discriminated by `type`. */
export const ItemBody = z.discriminatedUnion('type', [
  // Turn items carry their turn in the envelope's `turnId` (required for them).
  z.strictObject({ type: z.literal('turn_started') }),
  z.strictObject({ type: z.literal('user_message'), content: z.array(ContentPart).min(1).max(100) }),
  z.strictObject({
    type: z.literal('agent_message'),
    text: BoundedText,
    streamId: z.string().max(100).optional(),
    /**
     * True when the turn failed before the harness finished this message: the text is what had streamed so far,
     * recorded by the runner so it outlives the failure. Absent: a finished message.
     */
    partial: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('reasoning'), text: BoundedText, streamId: z.string().max(100).optional() }),
  z.strictObject({
    type: z.literal('tool_call'),
    callId: z.string().min(1).max(200),
    tool: ToolKind,
    nativeTool: z.string().max(200),
    input: JsonValue,
    status: ToolCallStatus,
  }),
  z.strictObject({
    type: z.literal('tool_result'),
    callId: z.string().min(1).max(200),
    output: BoundedText,
    isError: z.boolean(),
  }),
  z.strictObject({
    type: z.literal('command'),
    callId: z.string().min(1).max(200),
    argv: z.array(z.string().max(64 * 1024)).max(1000),
    cwd: z.string().max(4096),
    exitCode: z.number().int().nullable(),
    output: BoundedText,
  }),
  z.strictObject({ type: z.literal('file_change'), path: z.string().min(1).max(4096), diff: BoundedText }),
  z.strictObject({
    type: z.literal('approval_request'),
    approvalId: z.string().min(1).max(200),
    callId: z.string().max(200).optional(),
    /** What waits: a tool call, a prompt, or the whole session after a usage report (a paused session). */
    subject: z.enum(['tool_call', 'prompt', 'usage']).optional(),
    policy: z.string().max(200),
    reason: z.string().max(4000),
    /** What a person may answer (`HumanDecision` values); `approve_session` only where `canApproveForSession`. */
    options: z.array(z.string().max(100)).max(10),
    /**
     * Whether "always allow in this session" (`approve_session`) is offered: a tool call whose asking policies all
     * allow it (`allow_always`). Absent on requests recorded before it existed (then: not offered).
     */
    canApproveForSession: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('approval_decision'),
    approvalId: z.string().min(1).max(200),
    decision: ApprovalDecision,
  }),
  z.strictObject({
    type: z.literal('policy_decision'),
    callId: z.string().max(200).optional(),
    /** What was decided on: a prompt, a tool call (with `callId`), or a model usage report. */
    action: z.enum(['prompt', 'tool_call', 'usage']).optional(),
    verdict: z.enum(['allow', 'deny', 'ask']),
    policies: z.array(z.string().max(200)).max(100),
    reasons: z.array(z.string().max(4000)).max(100).default([]),
    /** The change to the session's policy state this decision applied (the state is a fold over these). */
    stateUpdate: JsonValue.optional(),
  }),
  z.strictObject({
    type: z.literal('usage'),
    model: z.string().max(200),
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    cachedTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative().finite(),
  }),
  /**
   * One model API call as the sandbox's egress proxy read it from the provider's own response (not what the harness
   * says): tokens by kind and the cost priced from the price table, in integer micro-dollars (governance.ts).
   */
  z.strictObject({
    type: z.literal('metered_usage'),
    provider: MeteredProvider,
    api: MeteredApi,
    host: z.string().max(300),
    model: z.string().max(200),
    /** Input tokens billed at the input rate (cache reads and writes apart). */
    inputTokens: TokenCount,
    /** Output tokens, reasoning included. */
    outputTokens: TokenCount,
    cacheReadTokens: TokenCount,
    cacheWriteTokens: TokenCount,
    /** Of the output tokens, how many were reasoning (informational; already in outputTokens). */
    reasoningTokens: TokenCount,
    costMicros: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** The price table version the cost came from; `unpriced` when the model is in no table (cost 0). */
    priceVersion: z.string().max(100),
    /** The provider's id for the call (response header or message id). */
    requestId: z.string().max(300).optional(),
    streamed: z.boolean(),
  }),
  z.strictObject({ type: z.literal('turn_completed'), stopReason: TurnStopReason }),
  z.strictObject({ type: z.literal('turn_failed'), error: z.string().max(4000) }),
  /**
   * What the sandbox's egress proxy let through or refused: a host once per credential set when allowed, every
   * refusal. `credentials` are the names of secrets swapped in for this host (never their values).
   */
  z.strictObject({
    type: z.literal('egress'),
    decision: z.enum(['allowed', 'denied']),
    method: z.string().max(20),
    host: z.string().max(300),
    port: z.number().int().min(0).max(65535),
    path: z.string().max(4096).optional(),
    code: z.string().max(100).optional(),
    reason: z.string().max(4000).optional(),
    credentials: z.array(z.string().max(200)).max(20).optional(),
  }),
  z.strictObject({
    type: z.literal('notice'),
    level: z.enum(['info', 'warning', 'error']),
    text: z.string().max(4000),
  }),
]);
export type ItemBody = z.infer<typeof ItemBody>;
export type ItemType = ItemBody['type'];
export const ITEM_TYPES = ItemBody.options.map((o) => o.shape.type.value) as ItemType[];

/** Fields every item carries besides its body. */
const ItemEnvelope = {
  seq: Seq,
  turnId: z.string().min(1).max(100).optional(),
  actor: Actor.optional(),
  createdAt: IsoDate,
};

/** What a runner sends: an item with its runner-assigned `seq`, before the server has stored it. */
export type ItemDraft = ItemBody & { seq: number; turnId?: string; actor?: Actor; createdAt: string };
/** A persisted item as every client sees it. */
export type Item = ItemDraft & { sessionId: string };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: z.core.$ZodIssue[]; message: string };

const DraftEnvelope = z.strictObject(ItemEnvelope);
const ItemEnvelopeWithSession = z.strictObject({ ...ItemEnvelope, sessionId: Uuid });

/**
 * Parse an item strictly: the envelope fields plus exactly the body fields of its `type`; anything unknown is
 * an error. (A zod intersection of two strict objects would reject each other's keys, so the two halves are
 * parsed apart.)
 */
const TURN_TYPES = new Set<string>(['turn_started', 'turn_completed', 'turn_failed']);

function parseSplit<E extends z.ZodType>(
  envelope: E,
  keys: string[],
  input: unknown,
): ParseResult<z.infer<E> & ItemBody> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [], message: 'item must be an object' };
  }
  const rec = input as Record<string, unknown>;
  const env: Record<string, unknown> = {};
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) (keys.includes(k) ? env : body)[k] = v;
  const e = envelope.safeParse(env);
  if (!e.success) return { ok: false, issues: e.error.issues, message: z.prettifyError(e.error) };
  const b = ItemBody.safeParse(body);
  if (!b.success) return { ok: false, issues: b.error.issues, message: z.prettifyError(b.error) };
  if (TURN_TYPES.has(b.data.type) && !env.turnId) {
    return { ok: false, issues: [], message: `${b.data.type} needs a turnId` };
  }
  return { ok: true, value: { ...(e.data as object), ...b.data } as z.infer<E> & ItemBody };
}

export function parseItemDraft(input: unknown): ParseResult<ItemDraft> {
  return parseSplit(DraftEnvelope, Object.keys(ItemEnvelope), input) as ParseResult<ItemDraft>;
}

export function parseItem(input: unknown): ParseResult<Item> {
  return parseSplit(ItemEnvelopeWithSession, [...Object.keys(ItemEnvelope), 'sessionId'], input) as ParseResult<Item>;
}

/** Ephemeral deltas: published to viewers, never persisted. The completed item replaces them. */
export const Delta = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('agent_message_delta'),
    turnId: z.string().min(1).max(100),
    streamId: z.string().min(1).max(100),
    text: BoundedText,
  }),
  z.strictObject({
    type: z.literal('reasoning_delta'),
    turnId: z.string().min(1).max(100),
    streamId: z.string().min(1).max(100),
    text: BoundedText,
  }),
  z.strictObject({
    type: z.literal('command_output_delta'),
    turnId: z.string().min(1).max(100),
    streamId: z.string().min(1).max(100),
    callId: z.string().min(1).max(200),
    text: BoundedText,
  }),
]);
export type Delta = z.infer<typeof Delta>;

/** The accumulated text of one in-progress streamed item, as a late joiner receives it. */
export const PartialItem = z.strictObject({
  type: z.enum(['agent_message_delta', 'reasoning_delta', 'command_output_delta']),
  turnId: z.string(),
  streamId: z.string(),
  callId: z.string().optional(),
  /** The `afterSeq` of the stream's first chunk: the text is shown once the viewer holds that item. */
  afterSeq: z.number().int().nonnegative(),
  text: z.string(),
});
export type PartialItem = z.infer<typeof PartialItem>;
