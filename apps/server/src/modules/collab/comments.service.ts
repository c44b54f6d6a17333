import { Injectable } from '@nestjs/common';
import { AppError, type Comment, type CreateCommentBody } from '@yoke/protocol';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { toComment } from './collab.mappers';
import { CollabRepository } from './collab.repository';

/**
 * Comment threads on a session: anchored to a file line range (at a seq) or to an item; replies; resolve. Every
 * change goes out live to everyone watching the session.
 */
@Injectable()
export class CommentsService {
  constructor(
    private readonly repo: CollabRepository,
    private readonly access: SessionAccessService,
    private readonly publisher: RealtimePublisher,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
  ) {}

  async list(p: Principal, sessionId: string, path: string | undefined): Promise<Comment[]> {
    await this.access.require(p, sessionId, 'view');
    return (await this.repo.listComments(p.orgId, sessionId, path)).map(toComment);
  }

  async create(p: Principal, sessionId: string, body: CreateCommentBody): Promise<Comment> {
    const access = await this.access.require(p, sessionId, 'comment');
    let path: string | null = null;
    if (body.threadId) {
      const root = await this.repo.findComment(p.orgId, sessionId, body.threadId);
      if (!root || root.threadId) throw new AppError('comment.not_found', 'no such thread');
      path = root.path;
    } else if (body.anchor?.kind === 'file') {
      path = body.anchor.path;
    }
    const row = await this.tx.run(async () => {
      const created = await this.repo.createComment({
        orgId: p.orgId,
        sessionId,
        threadId: body.threadId ?? null,
        anchor: body.anchor ?? null,
        path,
        author: access.actor,
        body: body.body,
      });
      await this.audit.record({
        orgId: p.orgId,
        action: 'comment.created',
        target: { kind: 'comment', id: created.id },
        sessionId,
        details: { threadId: body.threadId ?? null, anchor: body.anchor?.kind ?? null, path },
        // What people write is content, like prompts: stored apart, so retention can erase it.
        content: body.body,
      });
      return created;
    });
    const comment = toComment(row);
    this.publisher.toSession(sessionId, 'comment.updated', comment);
    return comment;
  }

  /** Resolves (or reopens) a thread; any commenter may. */
  async resolve(p: Principal, sessionId: string, commentId: string, resolved: boolean): Promise<Comment> {
    const access = await this.access.require(p, sessionId, 'comment');
    const root = await this.repo.findComment(p.orgId, sessionId, commentId);
    if (!root || root.threadId) throw new AppError('comment.not_found', 'no such thread');
    const row = await this.tx.run(async () => {
      const updated = await this.repo.setResolved(p.orgId, commentId, resolved ? access.actor : null);
      await this.audit.record({
        orgId: p.orgId,
        action: 'comment.resolved',
        target: { kind: 'comment', id: commentId },
        sessionId,
        details: { resolved },
      });
      return updated;
    });
    const comment = toComment(row);
    this.publisher.toSession(sessionId, 'comment.updated', comment);
    return comment;
  }
}
