import { Injectable } from '@nestjs/common';
import { type Approval, AppError, APPROVE_SESSION, approvalStatusFor, type DecideApprovalBody } from '@yoke/protocol';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { decisionOutcome, secondsBetween } from '../audit/session-activity';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { SessionQueriesService } from '../sessions/session-queries.service';
import { SessionInputsService } from '../sessions/session-inputs.service';
import { type ApprovalRow, ApprovalsRepository } from './approvals.repository';

/**
 * Human decisions on approval requests. The first decision wins (a conditional update); it is broadcast to every
 * viewer at once and delivered to the runner through the inbox, which resumes or refuses the parked action.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly repo: ApprovalsRepository,
    private readonly sessions: SessionQueriesService,
    private readonly inputs: SessionInputsService,
    private readonly publisher: RealtimePublisher,
    private readonly access: SessionAccessService,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
  ) {}

  async list(p: Principal, sessionId: string): Promise<Approval[]> {
    await this.sessions.get(p, sessionId);
    return (await this.repo.listForSession(p.orgId, sessionId)).map(toApproval);
  }

  async pending(p: Principal): Promise<Approval[]> {
    const rows = await this.repo.listPending(p.orgId, null, 200);
    // The inbox holds the approvals of sessions the caller may see.
    const visible = new Map<string, boolean>();
    for (const id of new Set(rows.map((r) => r.sessionId))) {
      visible.set(
        id,
        await this.access.resolve(p, id).then(
          () => true,
          () => false,
        ),
      );
    }
    return rows.filter((r) => visible.get(r.sessionId)).map(toApproval);
  }

  /**
   * Decides, stores the decision for the runner and records `approval.decided` (who, what, after how long) in one
   * transaction; the runner gets the decision once that committed.
   */
  async decide(p: Principal, sessionId: string, approvalId: string, body: DecideApprovalBody): Promise<Approval> {
    const session = await this.sessions.get(p, sessionId);
    // The owner answers, or whoever the owner delegated approvals to.
    await this.access.require(p, sessionId, 'approve');
    if (body.decision === APPROVE_SESSION) await this.requireSessionOption(p.orgId, sessionId, approvalId);
    const actor = { id: p.userId, name: p.name };
    const decided = await this.tx.run(async () => {
      const row = await this.repo.decide(p.orgId, sessionId, approvalId, approvalStatusFor(body.decision), actor);
      if (!row) return null;
      const input = await this.inputs.storeInput(
        session,
        { kind: 'approval', approvalId, decision: body.decision, actor },
        `approval-${approvalId}`,
      );
      await this.audit.record({
        orgId: p.orgId,
        action: 'approval.decided',
        target: { kind: 'approval', id: approvalId },
        sessionId,
        outcome: decisionOutcome(body.decision),
        details: {
          approvalId,
          decision: body.decision,
          policy: row.policy,
          callId: row.callId,
          waitedSeconds: secondsBetween(row.createdAt, row.decidedAt ?? new Date()),
        },
      });
      return { row, input };
    });
    if (!decided) {
      const existing = await this.repo.find(p.orgId, sessionId, approvalId);
      if (!existing) throw new AppError('approval.not_found', 'no such approval');
      const decidedBy = existing.decidedBy as { name?: string } | null;
      throw new AppError(
        'approval.already_decided',
        `already ${existing.status}${decidedBy?.name ? ` by ${decidedBy.name}` : ''}`,
        {
          approval: toApproval(existing),
        },
      );
    }
    const approval = toApproval(decided.row);
    this.publisher.approvalUpdated(approval);
    await this.inputs.deliver(session, decided.input);
    return approval;
  }

  /**
   * "Always allow in this session" is an answer only where the request offered it (its policies allow it): refused
   * otherwise, before anything changes. A request's options never change, so checking before deciding is enough.
   */
  private async requireSessionOption(orgId: string, sessionId: string, approvalId: string): Promise<void> {
    const row = await this.repo.find(orgId, sessionId, approvalId);
    if (!row) throw new AppError('approval.not_found', 'no such approval');
    if ((row.options as string[]).includes(APPROVE_SESSION)) return;
    throw new AppError(
      'approval.option_not_offered',
      `"always allow in this session" is not offered for this approval (policy ${row.policy}): approve or deny it`,
      { offered: row.options },
    );
  }
}

export function toApproval(row: ApprovalRow): Approval {
  return {
    sessionId: row.sessionId,
    approvalId: row.approvalId,
    callId: row.callId,
    policy: row.policy,
    reason: row.reason,
    options: row.options as string[],
    status: row.status,
    decidedBy: (row.decidedBy as Approval['decidedBy']) ?? null,
    decidedAt: row.decidedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
