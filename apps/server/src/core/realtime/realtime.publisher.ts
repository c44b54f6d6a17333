import { Injectable, Logger } from '@nestjs/common';
import {
  type Approval,
  type AuditEvent,
  type DeltaEvent,
  InboxAck,
  type InboxEntry,
  type Item,
  rooms,
  type ServerToRunnerEvents,
  type ServerToWebEvents,
  type Session,
  WorkspaceListAck,
  WorkspaceReadAck,
} from '@yoke/protocol';
import { RealtimeHub, type RunnerReply } from './realtime-hub';
import { SessionWatchers } from './session-watchers';

const RUNNER_ACK_TIMEOUT_MS = 10_000;

/**
 * The only way modules push to sockets: what each product event means in rooms and events, sent through the
 * realtime hub (which fans rooms out across replicas: Redis in team mode, in-process in embedded mode).
 */
@Injectable()
export class RealtimePublisher {
  private readonly logger = new Logger(RealtimePublisher.name);

  constructor(
    private readonly hub: RealtimeHub,
    /** Who knows whether other replicas need a session's deltas. */
    private readonly watchers: SessionWatchers,
  ) {}

  /** Closes every socket of a runner on every replica (through the adapter): used when it is revoked. */
  disconnectRunner(runnerId: string): void {
    this.hub.disconnect('runner', rooms.runner(runnerId));
  }

  /** Closes every /web socket in a room, on every replica (a browser session that signed out). */
  disconnectWeb(room: string): void {
    this.hub.disconnect('web', room);
  }

  /** A stored batch to the session's viewers: one event (one Redis publish in team mode) for all of its items. */
  items(sessionId: string, items: Item[]): void {
    if (items.length === 0) return;
    this.hub.emit(rooms.session(sessionId), 'session.items', items);
  }

  /**
   * A streamed chunk to the session's viewers: through the adapter (every replica) while another replica watches
   * the session, else straight to this replica's sockets. Says which way it went.
   */
  delta(event: DeltaEvent): 'local' | 'cluster' {
    const room = rooms.session(event.sessionId);
    if (!this.watchers.elsewhere(event.sessionId)) {
      this.hub.emitLocal(room, 'session.delta', event);
      return 'local';
    }
    this.hub.emit(room, 'session.delta', event);
    return 'cluster';
  }

  approvalUpdated(approval: Approval): void {
    this.hub.emit(rooms.session(approval.sessionId), 'approval.updated', approval);
  }

  /** Any web event to everyone watching one session. */
  toSession<E extends keyof ServerToWebEvents>(
    sessionId: string,
    event: E,
    ...args: Parameters<ServerToWebEvents[E]>
  ): void {
    this.hub.emit(rooms.session(sessionId), event, ...args);
  }

  /**
   * Ends access at once: tells the sockets in `room` why, then disconnects them (every replica). Used when a share
   * is revoked; `room` is built by `rooms.share`.
   */
  disconnectRoom(room: string, sessionId: string, message: string): void {
    this.hub.emit(room, 'access.revoked', { sessionId, message });
    this.hub.disconnect('web', room);
  }

  /** Takes a person's sockets out of a session's room (their role changed); their views re-join. */
  removeFromSession(userId: string, sessionId: string, message: string): void {
    this.hub.socketsLeave('web', rooms.user(userId), rooms.session(sessionId));
    this.hub.emit(rooms.user(userId), 'access.revoked', { sessionId, message });
  }

  /**
   * A request to a runner that answers with an ack (workspace files): the first ok reply wins; `null` when no
   * socket of that runner answered in time.
   */
  async askRunner<E extends 'workspace.list' | 'workspace.read'>(
    runnerId: string,
    event: E,
    payload: Parameters<ServerToRunnerEvents[E]>[0],
    timeoutMs = RUNNER_ACK_TIMEOUT_MS,
  ): Promise<RunnerReply<E> | null> {
    const { replies } = await this.hub.ask(rooms.runner(runnerId), event, payload, timeoutMs);
    // Runner replies are parsed, never trusted: one that is not an ack of this event counts as no answer.
    const schema = event === 'workspace.list' ? WorkspaceListAck : WorkspaceReadAck;
    const parsed = replies.flatMap((raw) => {
      const r = schema.safeParse(raw);
      if (!r.success) this.logger.warn({ runnerId, event }, `malformed ${event} reply from a runner`);
      return r.success ? [r.data as RunnerReply<E>] : [];
    });
    return parsed.find((r) => r.ok) ?? parsed[0] ?? null;
  }

  /** Newly committed audit events, to the org's audit watchers. */
  auditAppended(orgId: string, events: AuditEvent[]): void {
    this.hub.emit(rooms.audit(orgId), 'audit.appended', events);
  }

  sessionUpdated(session: Session): void {
    // The owner's own room and the members it is shared with: people who may not watch the whole org still see
    // their sessions live.
    this.hub.emit(
      [rooms.org(session.orgId), rooms.session(session.id), rooms.user(session.ownerId), rooms.sharedWith(session.id)],
      'session.updated',
      session,
    );
  }

  /** A member was given a session: their sockets (every replica) follow it from now on, starting with this copy. */
  sharedWith(userId: string, session: Session): void {
    this.hub.socketsJoin('web', rooms.user(userId), rooms.sharedWith(session.id));
    this.hub.emit(rooms.user(userId), 'session.updated', session);
  }

  /** A member's share ended: their sockets stop following the session. */
  unshared(userId: string, sessionId: string): void {
    this.hub.socketsLeave('web', rooms.user(userId), rooms.sharedWith(sessionId));
  }

  /**
   * Sends an input to a runner (whichever replica holds its socket) and waits for its ack. True when at least one
   * of the runner's sockets applied or had applied it; false when none answered ok in time (it stays pending).
   */
  async toRunner(runnerId: string, entry: InboxEntry): Promise<boolean> {
    const { replies, timedOut } = await this.hub.ask(
      rooms.runner(runnerId),
      'session.input',
      entry,
      RUNNER_ACK_TIMEOUT_MS,
    );
    const ok = replies.some((r) => InboxAck.safeParse(r).data?.ok === true);
    if (!ok && timedOut)
      this.logger.warn({ runnerId, inboxId: entry.id }, 'runner did not acknowledge an input in time');
    return ok;
  }
}
