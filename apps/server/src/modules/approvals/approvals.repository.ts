import { Injectable } from '@nestjs/common';
import type { Actor, ApprovalStatus } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type ApprovalRow = Prisma.ApprovalGetPayload<object>;

@Injectable()
export class ApprovalsRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  listForSession(orgId: string, sessionId: string) {
    return this.prisma.approval.findMany({ where: { orgId, sessionId }, orderBy: { createdAt: 'asc' } });
  }

  listPending(orgId: string, sessionIds: string[] | null, limit: number) {
    return this.prisma.approval.findMany({
      where: { orgId, status: 'pending', ...(sessionIds ? { sessionId: { in: sessionIds } } : {}) },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
  }

  find(orgId: string, sessionId: string, approvalId: string) {
    return this.prisma.approval.findFirst({ where: { orgId, sessionId, approvalId } });
  }

  /** Settles a pending approval; the first decision wins. Null when it was already settled (or never existed). */
  async decide(orgId: string, sessionId: string, approvalId: string, status: ApprovalStatus, actor: Actor) {
    const rows = await this.prisma.approval.updateManyAndReturn({
      where: { orgId, sessionId, approvalId, status: 'pending' },
      data: { status, decidedBy: actor as Prisma.InputJsonValue, decidedAt: new Date() },
    });
    return rows[0] ?? null;
  }
}
