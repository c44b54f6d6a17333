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

const RUNNER_ACK_TIMEOUT_MS = 10_000;

/** What both a socket.io namespace and a Redis emitter offer: typed broadcasts to rooms. */
export interface WebBroadcaster {
  to(room: string | string[]): {
    emit<E extends keyof ServerToWebEvents>(event: E, ...args: Parameters<ServerToWebEvents[E]>): unknown;
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
  private runners: Namespace<Record<string, never>, ServerToRunnerEvents> | null = null;

  /** The /web namespace of this process, or (in the worker) a Redis emitter reaching every replica's. */
  attachWeb(web: Namespace | WebBroadcaster): void {
    this.web = web as WebBroadcaster;
  }

  attachRunners(nsp: Namespace): void {
    this.runners = nsp as unknown as Namespace<Record<string, never>, ServerToRunnerEvents>;
  }

  items(sessionId: string, items: Item[]): void {
    const room = this.web?.to(rooms.session(sessionId));
    if (!room) return;
    for (const item of items) room.emit('session.item', item);
  }

  delta(event: DeltaEvent): void {
    this.web?.to(rooms.session(event.sessionId)).emit('session.delta', event);
  }

  approvalUpdated(approval: Approval): void {
    this.web?.to(rooms.session(approval.sessionId)).emit('approval.updated', approval);
  }

  sessionUpdated(session: Session): void {
    this.web?.to([rooms.org(session.orgId), rooms.session(session.id)]).emit('session.updated', session);
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
