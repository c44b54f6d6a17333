import { Injectable } from '@nestjs/common';
import { AgentSpec, AppError, type ForkSessionBody, type PolicyEntryWire, type Session } from '@yoke/protocol';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { RunnersService } from '../runners/runners.service';
import { requestedWorkspace } from '../sessions/requested-workspace';
import { StartSession } from '../sessions/start-session.use-case';
import { CollabRepository } from './collab.repository';

/**
 * Fork: a new session of the forker with the original's items up to a seq (same seqs), optionally on another
 * harness, model or runner. The original is untouched; the fork records where it came from. On the original's
 * runner (the default) with no workspace named, the runner copies the original's workspace into the fork's.
 */
@Injectable()
export class ForkService {
  constructor(
    private readonly repo: CollabRepository,
    private readonly access: SessionAccessService,
    private readonly startSession: StartSession,
    private readonly runners: RunnersService,
  ) {}

  async fork(p: Principal, sessionId: string, body: ForkSessionBody): Promise<Session> {
    await this.access.require(p, sessionId, 'view');
    if (p.scope) throw new AppError('auth.forbidden', 'sign in to fork a session');
    const parent = await this.repo.findSession(p.orgId, sessionId);
    if (!parent) throw new AppError('session.not_found', 'no such session');
    if (body.seq > parent.lastSeq) {
      throw new AppError('request.invalid', `the session has no item ${body.seq} (its last is ${parent.lastSeq})`);
    }
    // By default the fork runs where the original does, so that runner can copy the original's workspace into it.
    const onParentRunner =
      !body.runnerId && parent.runnerId !== null && (await this.runners.isBackOnline(p.orgId, parent.runnerId));
    const runnerId = await this.runners.pick(p.orgId, onParentRunner ? (parent.runnerId ?? undefined) : body.runnerId);
    const workspace = body.workspace === undefined ? null : requestedWorkspace(body.workspace);
    const { session } = await this.startSession.start({
      orgId: p.orgId,
      ownerId: p.userId,
      runnerId,
      // Files are copied only runner-local (the same runner holds both) and only into a fresh workspace of its own.
      fork: { sessionId: parent.id, seq: body.seq, copyWorkspace: runnerId === parent.runnerId && workspace === null },
      title: body.title ?? `Fork of ${parent.title}`.slice(0, 200),
      agent: parent.agent as AgentSpec,
      harness: body.harness ?? (parent.harness as AgentSpec['harness']),
      model: body.model ?? (body.harness ? null : parent.model),
      workspace,
      policies: parent.policies as PolicyEntryWire[],
      idempotencyKey: null,
    });
    return session;
  }
}
