import { Injectable } from '@nestjs/common';
import { AppError, type Session } from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { AuditTrail } from '../audit/audit-trail.service';
import { InboxRepository } from './inbox.repository';
import { SessionQueriesService } from './session-queries.service';
import { SessionsRepository } from './sessions.repository';
import { SessionViewsService } from './session-views.service';

const TURN = { running: 'running', waiting_approval: 'waiting for an approval', paused: 'paused on its budget' };

/**
 * Archiving a session and restoring it, by its owner. An archived session keeps its history, is read as before and
 * leaves the default list; it takes no prompt until restored. Archiving waits for the session to rest: a turn running
 * or waiting for an approval (or its budget), or a prompt queued for its runner, is refused (409 `session.busy`) and nothing changes.
 */
@Injectable()
export class SessionArchiveService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly inbox: InboxRepository,
    private readonly queries: SessionQueriesService,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly views: SessionViewsService,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** Archives (audited `session.archived`); archiving an archived session changes nothing and records nothing. */
  archive(p: Principal, id: string): Promise<Session> {
    return this.change(p, id, true);
  }

  /** Restores an archived session to idle (audited `session.restored`); a session not archived is left as it is. */
  restore(p: Principal, id: string): Promise<Session> {
    return this.change(p, id, false);
  }

  private async change(p: Principal, id: string, archived: boolean): Promise<Session> {
    const before = await this.queries.get(p, id, 'archive');
    if ((before.status === 'archived') === archived) return before;
    const row = await this.tx.run(async () => {
      if (!(await this.repo.setArchived(p.orgId, id, archived))) return null;
      await this.audit.record({
        orgId: p.orgId,
        action: archived ? 'session.archived' : 'session.restored',
        target: { kind: 'session', id },
        sessionId: id,
        details: { status: before.status },
      });
      return this.repo.findById(p.orgId, id);
    });
    if (!row) throw await this.refusal(p, id, archived);
    const session = this.views.view(row);
    this.publisher.sessionUpdated(session);
    return session;
  }

  /** Why a change that matched no row was refused, read again now (the session moved since it was read). */
  private async refusal(p: Principal, id: string, archived: boolean): Promise<AppError> {
    const now = await this.queries.get(p, id, 'archive');
    if (!archived || now.status === 'archived') {
      return new AppError('session.busy', `the session is ${now.status} now; read it again`);
    }
    if (now.status === 'running' || now.status === 'waiting_approval' || now.status === 'paused') {
      return new AppError('session.busy', `the session's turn is ${TURN[now.status]}: cancel it first`);
    }
    const queued = await this.inbox.queuedMessages(p.orgId, id);
    if (queued.length > 0) {
      return new AppError(
        'session.busy',
        `${queued.length} prompt(s) wait for the session's runner: withdraw them or let them run first`,
      );
    }
    return new AppError('session.busy', `the session is ${now.status} now; read it again`);
  }
}
