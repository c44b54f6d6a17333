import { z } from 'zod';
import { ackSchema } from './errors';
import { IsoDate, MAX_SEQ, TraceParent, Uuid } from './common';
import { Delta, type Item, PartialItem } from './items';
import { ItemSchema } from './item-schema';
import { type InboxEntry, Session } from './session';
import { RotateCredentialReply } from './identity';
import type { Approval } from './approvals';
import type { AuditEvent } from './audit';
import type { QueueChangedEvent } from './queued';
import {
  type AccessRevokedEvent,
  type Comment,
  type PresenceEvent,
  type TypingBody,
  type TypingEvent,
  WorkspaceFile,
  WorkspaceListing,
  type WorkspaceListRequest,
  type WorkspaceReadRequest,
} from './collab';

/*
 * Every ack has a schema, built with `ackSchema` (`{ ok: true, ...reply } | { ok: false, error }`), and its type is
 * inferred from it under the same name. Whoever receives an ack parses it with that schema before using it.
 */

/** socket.io namespaces. */
export const NS_RUNNER = '/runner';
export const NS_WEB = '/web';

// ---- runner <-> server ----

export const RunnerHandshakeAuth = z.strictObject({
  credential: z.string().min(1).max(500),
  protocolVersion: z.number().int(),
  runnerVersion: z.string().max(100).optional(),
});
export type RunnerHandshakeAuth = z.infer<typeof RunnerHandshakeAuth>;

/** A batch of items of one session, in seq order. Items themselves are parsed with `parseItemDraft`. */
export const ItemsBatch = z.strictObject({
  sessionId: Uuid,
  items: z.array(z.unknown()).min(1),
  /** The trace of the turn the items belong to: the server's spans for storing them join it. */
  traceparent: TraceParent.optional(),
});
export type ItemsBatch = { sessionId: string; items: unknown[]; traceparent?: string };
/** The server stored the batch: `lastSeq` is the session's last stored seq. */
export const ItemsAck = ackSchema(z.strictObject({ lastSeq: z.number().int().nonnegative().max(MAX_SEQ) }));
export type ItemsAck = z.infer<typeof ItemsAck>;

/**
 * A streamed chunk on its way to viewers. `afterSeq` is the seq of the session's last item the runner had emitted
 * before this chunk: a viewer shows the chunk only once it holds that item, so a new stream never overtakes the items
 * of the step before it (deltas travel straight through, items through storage).
 */
export const DeltaEvent = z.strictObject({
  sessionId: Uuid,
  afterSeq: z.number().int().nonnegative().max(MAX_SEQ),
  delta: Delta,
});
export type DeltaEvent = z.infer<typeof DeltaEvent>;

export const RunnerHello = z.strictObject({
  /** Sessions this runner holds, with the last seq it has sent (acked or not). */
  sessions: z
    .array(z.strictObject({ sessionId: Uuid, lastSeq: z.number().int().nonnegative().max(MAX_SEQ) }))
    .max(10_000),
});
export type RunnerHello = z.infer<typeof RunnerHello>;
/** The server's answer to hello: for each session the runner named (and the server assigned it), what it stored. */
export const HelloAck = ackSchema(
  z.strictObject({
    runnerId: Uuid,
    sessions: z.array(z.strictObject({ sessionId: Uuid, persistedSeq: z.number().int().nonnegative().max(MAX_SEQ) })),
  }),
);
export type HelloAck = z.infer<typeof HelloAck>;

export const Heartbeat = z.strictObject({ activeSessions: z.number().int().nonnegative() });
export type Heartbeat = z.infer<typeof Heartbeat>;
/** When the server recorded the heartbeat. */
export const HeartbeatAck = ackSchema(z.strictObject({ at: IsoDate }));
export type HeartbeatAck = z.infer<typeof HeartbeatAck>;

/** A new runner credential, shown once. */
export const RotateCredentialAck = ackSchema(RotateCredentialReply);
export type RotateCredentialAck = z.infer<typeof RotateCredentialAck>;

/**
 * A parent session's `delegate` call asks for a child session (same org, owner and runner; the sub-agent comes from
 * the parent's own `agents:`). Idempotent by `callId`: a retry or replay returns the same child.
 */
export const SpawnChild = z.strictObject({
  parentId: Uuid,
  callId: z.string().min(1).max(200),
  agent: z.string().min(1).max(100),
  prompt: z.string().min(1).max(100_000),
  /** The parent's `delegate` tool span: the child's turn is traced under it. */
  traceparent: TraceParent.optional(),
});
export type SpawnChild = z.infer<typeof SpawnChild>;
/** The child session, and whether this request made it (false: an earlier request with the same `callId` did). */
export const SpawnChildAck = ackSchema(z.strictObject({ sessionId: Uuid, created: z.boolean() }));
export type SpawnChildAck = z.infer<typeof SpawnChildAck>;

export interface RunnerToServerEvents {
  'runner.hello': (payload: RunnerHello, ack: (reply: HelloAck) => void) => void;
  'runner.heartbeat': (payload: Heartbeat, ack: (reply: HeartbeatAck) => void) => void;
  'session.items': (payload: ItemsBatch, ack: (reply: ItemsAck) => void) => void;
  /** A new credential for this runner, shown once; the old one works until the new one is first used. */
  'runner.rotate_credential': (ack: (reply: RotateCredentialAck) => void) => void;
  'session.delta': (payload: DeltaEvent) => void;
  'session.spawn_child': (payload: SpawnChild, ack: (reply: SpawnChildAck) => void) => void;
}

/** The runner took the input: `applied` is false when it had applied it before (inputs are delivered at least once). */
export const InboxAck = ackSchema(z.strictObject({ applied: z.boolean() }));
export type InboxAck = z.infer<typeof InboxAck>;
export const WorkspaceListAck = ackSchema(z.strictObject({ listing: WorkspaceListing }));
export type WorkspaceListAck = z.infer<typeof WorkspaceListAck>;
export const WorkspaceReadAck = ackSchema(z.strictObject({ file: WorkspaceFile }));
export type WorkspaceReadAck = z.infer<typeof WorkspaceReadAck>;

export interface ServerToRunnerEvents {
  'session.input': (entry: InboxEntry, ack: (reply: InboxAck) => void) => void;
  /** Lists a directory of a session's workspace (paths confined to it). */
  'workspace.list': (req: WorkspaceListRequest, ack: (reply: WorkspaceListAck) => void) => void;
  /** Reads a file of a session's workspace, size-capped. */
  'workspace.read': (req: WorkspaceReadRequest, ack: (reply: WorkspaceReadAck) => void) => void;
}

// ---- web (browser, cli) <-> server ----

export const WebHandshakeAuth = z.strictObject({ token: z.string().min(1).max(500).optional() });

export const JoinSession = z.strictObject({
  sessionId: Uuid,
  afterSeq: z.number().int().nonnegative().max(MAX_SEQ).default(0),
});
export type JoinSession = z.input<typeof JoinSession>;
/**
 * What a viewer joining a session gets: the session, its items after `afterSeq` (one page: `hasMore` says whether
 * more follow, read through REST), and the partial text of the items streaming now.
 */
export const JoinReply = z.strictObject({
  session: Session,
  items: z.array(ItemSchema),
  partials: z.array(PartialItem),
  hasMore: z.boolean(),
});
export type JoinReply = z.infer<typeof JoinReply>;
export const JoinAck = ackSchema(JoinReply);
export type JoinAck = z.infer<typeof JoinAck>;

export const LeaveSession = z.strictObject({ sessionId: Uuid });
export type LeaveSession = z.infer<typeof LeaveSession>;

export const WatchOrg = z.strictObject({});
/** `audit.watch` takes nothing: the caller's org is the one it follows. */
export const WatchAudit = z.strictObject({});
/** The ack of a request that answers nothing but whether it was done (leave, watch, typing). */
export const EmptyAck = ackSchema(z.strictObject({}));
export type EmptyAck = z.infer<typeof EmptyAck>;

export interface WebToServerEvents {
  'session.join': (payload: JoinSession, ack: (reply: JoinAck) => void) => void;
  'session.leave': (payload: LeaveSession, ack: (reply: EmptyAck) => void) => void;
  'sessions.watch': (payload: z.infer<typeof WatchOrg>, ack: (reply: EmptyAck) => void) => void;
  /** Follow the org's audit log live (owners, admins, auditors). */
  'audit.watch': (payload: z.infer<typeof WatchAudit>, ack: (reply: EmptyAck) => void) => void;
  /** A driver is typing in the composer (sent at most every few seconds while typing). */
  'presence.typing': (payload: TypingBody, ack?: (reply: EmptyAck) => void) => void;
}

export interface ServerToWebEvents {
  /** Items just stored, in seq order: one event per stored batch (a runner's batch, a prompt, a fork's notice). */
  'session.items': (items: Item[]) => void;
  'session.delta': (payload: DeltaEvent) => void;
  'session.updated': (session: Session) => void;
  /** An approval was settled (by a human or a timeout): every open view updates at once. */
  'approval.updated': (approval: Approval) => void;
  /** A comment was added, replied to or (un)resolved. */
  'comment.updated': (comment: Comment) => void;
  /** Who is watching a session now. */
  'presence.updated': (payload: PresenceEvent) => void;
  'presence.typing': (payload: TypingEvent) => void;
  /** Your access to a session ended or changed: leave (or re-join) its live view. */
  'access.revoked': (payload: AccessRevokedEvent) => void;
  /** Events appended to the org's audit log (to the sockets that watch it: owners, admins, auditors). */
  'audit.appended': (events: AuditEvent[]) => void;
  /** A prompt of the session was queued for its runner, withdrawn, or delivered. */
  'session.queue_changed': (payload: QueueChangedEvent) => void;
}
