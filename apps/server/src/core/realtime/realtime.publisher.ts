import { Injectable, Logger } from '@nestjs/common';
import {
  type Approval,
  type DeltaEvent,
  type InboxAck,
  type InboxEntry,
  type Item,
  rooms,
  type ServerToRunnerEvents,
  type ServerToWebEvents,
  type Session,
} from '@yoke/protocol';
import type { Namespace } from 'socket.io';
import type { SessionWatchers } from './session-watchers';

const RUNNER_ACK_TIMEOUT_MS = 10_000;

/** What both a socket.io namespace and a Redis emitter offer: typed broadcasts to rooms. */
export interface WebBroadcaster {
  to(room: string | string[]): {
    emit<E extends keyof ServerToWebEvents>(event: E, ...args: Parameters<ServerToWebEvents[E]>): unknown;
  };
  /** Both a namespace and a Redis emitter can act on the sockets of a room, on every replica. */
  in?(room: string | string[]): {
    disconnectSockets(close?: boolean): void;
    socketsJoin(room: string | string[]): void;
    socketsLeave(room: string | string[]): void;
  };
}

/**
 * The only way modules push to sockets. Rooms are fanned out across replicas by the socket.io adapter
 * (Redis in team mode, in-process in embedded mode).
 */
@Injectable()
export class RealtimePublisher {
  private readonly logger = new Logger(RealtimePublisher.name);
  private web: WebBroadcaster | null = null;
  /** This replica's sockets only (no Redis publish), and who knows whether other replicas need a session's deltas. */
  private local: { web: WebBroadcaster; watchers: SessionWatchers } | null = null;
  private runners: Namespace<Record<string, never>, ServerToRunnerEvents> | null = null;

  /**
   * The /web namespace of this process, or (in the worker) a Redis emitter reaching every replica's. With `watchers`
   * (a namespace on the Redis adapter), deltas skip Redis while no other replica has a viewer of their session.
   */
  attachWeb(web: Namespace | WebBroadcaster, watchers?: SessionWatchers): void {
    this.web = web as WebBroadcaster;
    this.local = watchers && 'local' in web ? { web: web.local as unknown as WebBroadcaster, watchers } : null;
  }

  attachRunners(nsp: Namespace): void {
    this.runners = nsp as unknown as Namespace<Record<string, never>, ServerToRunnerEvents>;
  }

  /** Closes every socket of a runner on every replica (through the adapter): used when it is revoked. */
  disconnectRunner(runnerId: string): void {
    this.runners?.in(rooms.runner(runnerId)).disconnectSockets(true);
  }

  /** Closes every /web socket in a room, on every replica (a browser session that signed out). */
  disconnectWeb(room: string): void {
    this.web?.in?.(room).disconnectSockets(true);
  }

  items(sessionId: string, items: Item[]): void {
    const room = this.web?.to(rooms.session(sessionId));
    if (!room) return;
    for (const item of items) room.emit('session.item', item);
  }

  /**
   * A streamed chunk to the session's viewers: through the adapter (every replica) while another replica watches
   * the session, else straight to this replica's sockets. Says which way it went.
   */
  delta(event: DeltaEvent): 'local' | 'cluster' {
    const room = rooms.session(event.sessionId);
    if (this.local && !this.local.watchers.elsewhere(event.sessionId)) {
      this.local.web.to(room).emit('session.delta', event);
      return 'local';
    }
    this.web?.to(room).emit('session.delta', event);
    return 'cluster';
  }

  approvalUpdated(approval: Approval): void {
    this.web?.to(rooms.session(approval.sessionId)).emit('approval.updated', approval);
  }

  /** Any web event to everyone watching one session. */
  toSession<E extends keyof ServerToWebEvents>(
    sessionId: string,
    event: E,
    ...args: Parameters<ServerToWebEvents[E]>
  ): void {
    this.web?.to(rooms.session(sessionId)).emit(event, ...args);
  }

  /**
   * Ends access at once: tells the sockets in `room` why, then disconnects them (every replica). Used when a share
   * is revoked; `room` is built by `rooms.share`.
   */
  disconnectRoom(room: string, sessionId: string, message: string): void {
    this.web?.to(room).emit('access.revoked', { sessionId, message });
    this.web?.in?.(room).disconnectSockets(true);
  }

  /** Takes a person's sockets out of a session's room (their role changed); their views re-join. */
  removeFromSession(userId: string, sessionId: string, message: string): void {
    this.web?.in?.(rooms.user(userId)).socketsLeave(rooms.session(sessionId));
    this.web?.to(rooms.user(userId)).emit('access.revoked', { sessionId, message });
  }

  /**
   * A request to a runner that answers with an ack (workspace files): the first ok reply wins; `null` when no
   * socket of that runner answered in time.
   */
  askRunner<E extends 'workspace.list' | 'workspace.read'>(
    runnerId: string,
    event: E,
    payload: Parameters<ServerToRunnerEvents[E]>[0],
    timeoutMs = RUNNER_ACK_TIMEOUT_MS,
  ): Promise<Parameters<Parameters<ServerToRunnerEvents[E]>[1]>[0] | null> {
    const nsp = this.runners;
    if (!nsp) return Promise.resolve(null);
    type Reply = Parameters<Parameters<ServerToRunnerEvents[E]>[1]>[0];
    return new Promise((resolve) => {
      (
        nsp.to(rooms.runner(runnerId)).timeout(timeoutMs) as unknown as {
          emit(event: string, payload: unknown, cb: (err: Error | null, replies: Reply[]) => void): void;
        }
      ).emit(event, payload, (_err, replies = []) => {
        resolve(replies.find((r) => r && r.ok) ?? replies[0] ?? null);
      });
    });
  }

  sessionUpdated(session: Session): void {
    // The owner's own room and the members it is shared with: people who may not watch the whole org still see
    // their sessions live.
    this.web
      ?.to([
        rooms.org(session.orgId),
        rooms.session(session.id),
        rooms.user(session.ownerId),
        rooms.sharedWith(session.id),
      ])
      .emit('session.updated', session);
  }

  /** A member was given a session: their sockets (every replica) follow it from now on, starting with this copy. */
  sharedWith(userId: string, session: Session): void {
    this.web?.in?.(rooms.user(userId)).socketsJoin(rooms.sharedWith(session.id));
    this.web?.to(rooms.user(userId)).emit('session.updated', session);
  }

  /** A member's share ended: their sockets stop following the session. */
  unshared(userId: string, sessionId: string): void {
    this.web?.in?.(rooms.user(userId)).socketsLeave(rooms.sharedWith(sessionId));
  }

  /**
   * Sends an input to a runner (whichever replica holds its socket) and waits for its ack. True when at least one
   * of the runner's sockets applied or had applied it; false when none answered ok in time (it stays pending).
   */
  toRunner(runnerId: string, entry: InboxEntry): Promise<boolean> {
    const nsp = this.runners;
    if (!nsp) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      nsp
        .to(rooms.runner(runnerId))
        .timeout(RUNNER_ACK_TIMEOUT_MS)
        .emit('session.input', entry, ((err: Error | null, replies: InboxAck[] = []) => {
          const ok = replies.some((r) => r && r.ok);
          if (!ok && err)
            this.logger.warn({ runnerId, inboxId: entry.id }, 'runner did not acknowledge an input in time');
          resolve(ok);
        }) as never);
    });
  }
}
