import { Injectable, Logger } from '@nestjs/common';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { toInboxEntry } from './session.mapper';
import { InboxRepository, type InboxRow } from './inbox.repository';

/**
 * Delivers inbox entries to runners at least once, in order per session: an entry is marked delivered only
 * after the runner acked it, and every undelivered entry is sent again when its runner (re)connects.
 * The runner applies each entry id once.
 */
@Injectable()
export class InboxDispatcher {
  private readonly logger = new Logger(InboxDispatcher.name);
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly inbox: InboxRepository,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** Queues delivery behind earlier entries of the same session; resolves true once the runner acked. */
  dispatch(runnerId: string, row: InboxRow): Promise<boolean> {
    const prev = this.chains.get(row.sessionId) ?? Promise.resolve();
    const next = prev.then(() => this.deliver(runnerId, row)).catch(() => false);
    this.chains.set(row.sessionId, next);
    void next.finally(() => {
      if (this.chains.get(row.sessionId) === next) this.chains.delete(row.sessionId);
    });
    return next;
  }

  async redeliver(runnerId: string): Promise<void> {
    const pending = await this.inbox.pendingForRunner(runnerId);
    await Promise.all(pending.map((row) => this.dispatch(runnerId, row)));
  }

  /**
   * One hand-over, under a claim on the entry: a prompt withdrawn before it is never sent, and one being sent cannot
   * be withdrawn (the claim is cleared when the runner acked or did not answer). Viewers see a delivered prompt leave
   * the queue.
   */
  private async deliver(runnerId: string, row: InboxRow): Promise<boolean> {
    if (!(await this.inbox.claimDelivery(row.id))) return this.inbox.isDelivered(row.id);
    let ok = false;
    try {
      ok = await this.publisher.toRunner(runnerId, toInboxEntry(row));
    } finally {
      if (ok) await this.inbox.markDelivered(row.id);
      else await this.inbox.releaseDelivery(row.id);
    }
    if (!ok) {
      this.logger.debug({ runnerId, inboxId: row.id }, 'input left pending until the runner reconnects');
      return false;
    }
    if (row.kind === 'message') {
      this.publisher.toSession(row.sessionId, 'session.queue_changed', {
        change: 'delivered',
        sessionId: row.sessionId,
        id: row.id,
      });
    }
    return true;
  }
}
