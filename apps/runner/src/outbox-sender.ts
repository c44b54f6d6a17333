import type { Logger } from 'pino';
import { type Delta, type ItemsAck, MAX_BATCH_ITEMS } from '@yoke/protocol';
import { ACK_TIMEOUT_MS, type RunnerConnection, SEND_RETRY_MS } from './runner-connection';
import type { SessionSupervisor } from './session-supervisor';

/**
 * Streams each session's durable items from its outbox until the server acknowledged them: one batch in flight per
 * session, the outbox advanced only by the server's ack. Deltas go out only while connected.
 */
export class OutboxSender {
  private readonly sending = new Set<string>();

  constructor(
    private readonly connection: RunnerConnection,
    private readonly sessions: ReadonlyMap<string, SessionSupervisor>,
    private readonly log: Logger,
  ) {}

  /** Sends a session's pending items in order, one batch in flight at a time, until the outbox is empty. */
  flush(sessionId: string): void {
    if (!this.connection.isReady || this.sending.has(sessionId)) return;
    const sup = this.sessions.get(sessionId);
    if (!sup || !sup.outbox.hasPending) return;
    this.sending.add(sessionId);
    void this.sendLoop(sup).finally(() => this.sending.delete(sessionId));
  }

  sendDelta(sessionId: string, delta: Delta): void {
    // Deltas are ephemeral: sent when connected, otherwise dropped (the completed item follows through the outbox).
    if (this.connection.isReady) this.connection.socket.emit('session.delta', { sessionId, delta });
  }

  private async sendLoop(sup: SessionSupervisor): Promise<void> {
    while (this.connection.isReady && sup.outbox.hasPending) {
      const batch = sup.outbox.pending(MAX_BATCH_ITEMS);
      let reply: ItemsAck;
      try {
        reply = await this.connection.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('session.items', {
          sessionId: sup.sessionId,
          items: batch,
          ...(sup.traceparent ? { traceparent: sup.traceparent } : {}),
        });
      } catch {
        continue; // no ack in time: the connection is probably gone; `isReady` tells
      }
      if (reply.ok) {
        sup.outbox.ack(reply.lastSeq);
        continue;
      }
      this.log.error({ sessionId: sup.sessionId, error: reply.error }, 'server refused items; retrying');
      await new Promise((r) => setTimeout(r, SEND_RETRY_MS));
    }
  }
}
