import { Injectable } from '@nestjs/common';
import { AppError, type QueuedPromptList } from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { AuditTrail } from '../audit/audit-trail.service';
import { toQueuedPrompt } from './session.mapper';
import { InboxRepository } from './inbox.repository';
import { SessionQueriesService } from './session-queries.service';
import { actorOf } from './session-inputs.service';

/**
 * Prompts stored for a session's runner but not handed over yet (it is offline or revoked): whoever may view the
 * session sees them, whoever may drive it may withdraw one until the runner has it.
 */
@Injectable()
export class QueuedPromptsService {
  constructor(
    private readonly inbox: InboxRepository,
    private readonly queries: SessionQueriesService,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly publisher: RealtimePublisher,
  ) {}

  async list(p: Principal, id: string): Promise<QueuedPromptList> {
    const session = await this.queries.get(p, id);
    const rows = await this.inbox.queuedMessages(session.orgId, session.id);
    return { items: rows.map(toQueuedPrompt) };
  }

  /**
   * Withdraws one undelivered prompt, with its audit event, in one transaction; every viewer's timeline drops it.
   * A prompt the runner already has (or is taking at this moment) is 409 `input.already_delivered`; one that is not
   * this session's (or is gone) is 404 `input.not_found`.
   */
  async withdraw(p: Principal, id: string, inboxId: string): Promise<void> {
    const session = await this.queries.get(p, id, 'drive');
    const actor = actorOf(p);
    await this.tx.run(async () => {
      if (!(await this.inbox.withdrawMessage(session.orgId, session.id, inboxId))) {
        const found = await this.inbox.findMessage(session.orgId, session.id, inboxId);
        if (!found) throw new AppError('input.not_found', 'no such queued prompt in this session');
        throw new AppError(
          'input.already_delivered',
          'the runner already has this prompt: it can no longer be withdrawn',
        );
      }
      await this.audit.record({
        orgId: session.orgId,
        action: 'session.prompt_withdrawn',
        target: { kind: 'prompt', id: inboxId },
        sessionId: session.id,
      });
    });
    this.publisher.toSession(session.id, 'session.queue_changed', {
      change: 'withdrawn',
      sessionId: session.id,
      id: inboxId,
      actor,
    });
  }
}
