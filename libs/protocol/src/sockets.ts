import { z } from 'zod';
import { type Ack } from './errors';
import { MAX_SEQ, TraceParent, Uuid } from './common';
import { Delta, type Item, type PartialItem } from './items';
import { type InboxEntry, type Session } from './session';
import type { Approval } from './approvals';
import type { AuditEvent } from './audit';
import type {
  AccessRevokedEvent,
  Comment,
  PresenceEvent,
  TypingBody,
  TypingEvent,
  WorkspaceFile,
  WorkspaceListing,
  WorkspaceListRequest,
  WorkspaceReadRequest,
} from './collab';

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
export type ItemsAck = Ack<{ lastSeq: number }>;

export const DeltaEvent = z.strictObject({ sessionId: Uuid, delta: Delta });
export type DeltaEvent = z.infer<typeof DeltaEvent>;

export const RunnerHello = z.strictObject({
  /** Sessions this runner holds, with the last seq it has sent (acked or not). */
  sessions: z
    .array(z.strictObject({ sessionId: Uuid, lastSeq: z.number().int().nonnegative().max(MAX_SEQ) }))
    .max(10_000),
});
export type RunnerHello = z.infer<typeof RunnerHello>;
export type HelloAck = Ack<{ runnerId: string; sessions: { sessionId: string; persistedSeq: number }[] }>;

export const Heartbeat = z.strictObject({ activeSessions: z.number().int().nonnegative() });
export type Heartbeat = z.infer<typeof Heartbeat>;

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
export type SpawnChildAck = Ack<{ sessionId: string; created: boolean }>;

export interface RunnerToServerEvents {
  'runner.hello': (payload: RunnerHello, ack: (reply: HelloAck) => void) => void;
  'runner.heartbeat': (payload: Heartbeat, ack: (reply: Ack<{ at: string }>) => void) => void;
  'session.items': (payload: ItemsBatch, ack: (reply: ItemsAck) => void) => void;
  /** A new credential for this runner, shown once; the old one works until the new one is first used. */
  'runner.rotate_credential': (ack: (reply: Ack<{ credential: string }>) => void) => void;
  'session.delta': (payload: DeltaEvent) => void;
  'session.spawn_child': (payload: SpawnChild, ack: (reply: SpawnChildAck) => void) => void;
}

export type InboxAck = Ack<{ applied: boolean }>;
export interface ServerToRunnerEvents {
  'session.input': (entry: InboxEntry, ack: (reply: InboxAck) => void) => void;
  /** Lists a directory of a session's workspace (paths confined to it). */
  'workspace.list': (req: WorkspaceListRequest, ack: (reply: Ack<{ listing: WorkspaceListing }>) => void) => void;
  /** Reads a file of a session's workspace, size-capped. */
  'workspace.read': (req: WorkspaceReadRequest, ack: (reply: Ack<{ file: WorkspaceFile }>) => void) => void;
}

// ---- web (browser, cli) <-> server ----

export const WebHandshakeAuth = z.strictObject({ token: z.string().min(1).max(500).optional() });

export const JoinSession = z.strictObject({
  sessionId: Uuid,
  afterSeq: z.number().int().nonnegative().max(MAX_SEQ).default(0),
});
export type JoinSession = z.input<typeof JoinSession>;
export type JoinAck = Ack<{ session: Session; items: Item[]; partials: PartialItem[]; hasMore: boolean }>;

export const LeaveSession = z.strictObject({ sessionId: Uuid });
export type LeaveSession = z.infer<typeof LeaveSession>;

export const WatchOrg = z.strictObject({});
/** `audit.watch` takes nothing: the caller's org is the one it follows. */
export const WatchAudit = z.strictObject({});

export interface WebToServerEvents {
  'session.join': (payload: JoinSession, ack: (reply: JoinAck) => void) => void;
  'session.leave': (payload: LeaveSession, ack: (reply: Ack<object>) => void) => void;
  'sessions.watch': (payload: z.infer<typeof WatchOrg>, ack: (reply: Ack<object>) => void) => void;
  /** Follow the org's audit log live (owners, admins, auditors). */
  'audit.watch': (payload: z.infer<typeof WatchAudit>, ack: (reply: Ack<object>) => void) => void;
  /** A driver is typing in the composer (sent at most every few seconds while typing). */
  'presence.typing': (payload: TypingBody, ack?: (reply: Ack<object>) => void) => void;
}

export interface ServerToWebEvents {
  'session.item': (item: Item) => void;
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
}
