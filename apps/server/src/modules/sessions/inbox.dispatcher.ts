import { Injectable, Logger } from '@nestjs/common';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { toInboxEntry } from './session.mapper';
import { type InboxRow, SessionsRepository } from './sessions.repository';

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
    private readonly repo: SessionsRepository,
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
    const pending = await this.repo.pendingInboxForRunner(runnerId);
    await Promise.all(pending.map((row) => this.dispatch(runnerId, row)));
  }

  private async deliver(runnerId: string, row: InboxRow): Promise<boolean> {
    const ok = await this.publisher.toRunner(runnerId, toInboxEntry(row));
    if (ok) await this.repo.markDelivered(row.id);
    else this.logger.debug({ runnerId, inboxId: row.id }, 'input left pending until the runner reconnects');
    return ok;
  }
}
