import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/prisma/transactions';

/** Reads what decides a caller's role in a session: the session's owner and live grants. */
@Injectable()
export class AccessRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  findSessionOwner(orgId: string, sessionId: string) {
    return this.prisma.session.findFirst({ where: { orgId, id: sessionId }, select: { id: true, ownerId: true } });
  }

  /** The live grant of an org member in a session (the most recent, when a link and an invite both gave one). */
  findUserGrant(orgId: string, sessionId: string, userId: string) {
    return this.prisma.sessionGrant.findFirst({
      where: { orgId, sessionId, userId, revokedAt: null },
      orderBy: { createdAt: 'desc' },
    });
  }

  async grantedSessionIds(orgId: string, userId: string): Promise<string[]> {
    const rows = await this.prisma.sessionGrant.findMany({
      where: { orgId, userId, revokedAt: null },
      select: { sessionId: true },
      orderBy: { createdAt: 'desc' },
      take: 1000,
    });
    return rows.map((r) => r.sessionId);
  }

  /** A guest credential's grant, if live, with its link's state. */
  async findGuestGrant(credentialHash: string) {
    const grant = await this.prisma.sessionGrant.findUnique({ where: { credentialHash } });
    if (!grant || grant.revokedAt || !grant.linkId) return null;
    const link = await this.prisma.sessionLink.findFirst({ where: { id: grant.linkId, orgId: grant.orgId } });
    return link ? { grant, link } : null;
  }
}
