import { Injectable } from '@nestjs/common';
import {
  AppError,
  type CancelBody,
  type ContentPart,
  type InputAccepted,
  type SendMessageBody,
  type Session,
} from '@yoke/protocol';
import { randomUUID } from 'node:crypto';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { InboxDispatcher } from './inbox.dispatcher';
import { SessionsRepository } from './sessions.repository';
import { SessionQueriesService } from './session-queries.service';

/** Inputs for a session's runner: a principal's messages and cancels, and any stored input delivered at least once. */
@Injectable()
export class SessionInputsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly queries: SessionQueriesService,
    private readonly dispatcher: InboxDispatcher,
    private readonly access: SessionAccessService,
  ) {}

  async sendMessage(p: Principal, id: string, body: SendMessageBody): Promise<InputAccepted> {
    const content: ContentPart[] = body.content ?? (body.text ? [{ type: 'text', text: body.text }] : []);
    if (content.length === 0) throw new AppError('request.invalid', 'a message needs `text` or `content`');
    const idempotencyKey = body.idempotencyKey;
    const session = await this.queries.get(p, id);
    await this.access.require(p, id, 'drive');
    if (session.status === 'archived') throw new AppError('session.archived', 'the session is archived');
    return this.enqueueInput(
      session,
      { kind: 'message', content, actor: { id: p.userId, name: p.name } },
      idempotencyKey,
    );
  }

  async cancel(p: Principal, id: string, body: CancelBody): Promise<InputAccepted> {
    const session = await this.queries.get(p, id);
    await this.access.require(p, id, 'drive');
    return this.enqueueInput(session, { kind: 'cancel', actor: { id: p.userId, name: p.name } }, body.idempotencyKey);
  }

  /** Stores an input for the session's runner (idempotent by key) and delivers it at least once. */
  async enqueueInput(
    session: Session,
    input: Parameters<SessionsRepository['addInbox']>[2],
    idempotencyKey: string | undefined,
  ): Promise<InputAccepted> {
    if (!session.runnerId) throw new AppError('runner.not_found', 'the session has no runner');
    const row = await this.repo.addInbox(session.orgId, session.id, input, idempotencyKey ?? randomUUID());
    if (row.deliveredAt) return { inboxId: row.id, delivered: true };
    const delivered = await this.dispatcher.dispatch(session.runnerId, row);
    return { inboxId: row.id, delivered };
  }
}
