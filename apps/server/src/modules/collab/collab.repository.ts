import { Injectable } from '@nestjs/common';
import type { Actor, CommentAnchor, ShareRole } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type GrantRow = Prisma.SessionGrantGetPayload<object>;
export type LinkRow = Prisma.SessionLinkGetPayload<object>;
export type CommentRow = Prisma.CommentGetPayload<object>;

/** Shares (grants, links), comments and the session a fork starts from. Every method on org data takes the org id. */
@Injectable()
export class CollabRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  // ---- grants ----

  listGrants(orgId: string, sessionId: string) {
    return this.prisma.sessionGrant.findMany({
      where: { orgId, sessionId, revokedAt: null },
      orderBy: { createdAt: 'asc' },
    });
  }

  findGrant(orgId: string, sessionId: string, id: string) {
    return this.prisma.sessionGrant.findFirst({ where: { orgId, sessionId, id, revokedAt: null } });
  }

  usersByIds(orgId: string, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.user.findMany({
      where: { id: { in: ids }, memberships: { some: { orgId } } },
      select: { id: true, name: true, email: true },
    });
  }

  isMember(orgId: string, userId: string) {
    return this.prisma.membership
      .findUnique({ where: { orgId_userId: { orgId, userId } }, select: { userId: true } })
      .then(Boolean);
  }

  /** An org member's grant: replaces the live one they had (one grant per person and session). */
  async grantUser(data: {
    orgId: string;
    sessionId: string;
    userId: string;
    role: ShareRole;
    canApprove: boolean;
    linkId: string | null;
    createdById: string | null;
  }) {
    return this.db.run(async (tx) => {
      await tx.sessionGrant.updateMany({
        where: { orgId: data.orgId, sessionId: data.sessionId, userId: data.userId, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      return tx.sessionGrant.create({ data });
    });
  }

  createGuestGrant(data: {
    orgId: string;
    sessionId: string;
    guestName: string | null;
    credentialHash: string;
    role: ShareRole;
    linkId: string;
  }) {
    return this.prisma.sessionGrant.create({ data });
  }

  updateGrant(orgId: string, id: string, data: { role?: ShareRole; canApprove?: boolean }) {
    return this.prisma.sessionGrant.update({ where: { id, orgId }, data });
  }

  async revokeGrant(orgId: string, sessionId: string, id: string) {
    const rows = await this.prisma.sessionGrant.updateManyAndReturn({
      where: { orgId, sessionId, id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return rows[0] ?? null;
  }

  // ---- links ----

  listLinks(orgId: string, sessionId: string) {
    return this.prisma.sessionLink.findMany({
      where: { orgId, sessionId, revokedAt: null },
      orderBy: { createdAt: 'asc' },
    });
  }

  createLink(data: {
    orgId: string;
    sessionId: string;
    role: ShareRole;
    tokenHash: string;
    expiresAt: Date | null;
    maxUses: number | null;
    createdById: string | null;
  }) {
    return this.prisma.sessionLink.create({ data });
  }

  /** Revokes a link and every grant that came from it, in one transaction. Null when it was not live. */
  async revokeLink(orgId: string, sessionId: string, id: string) {
    return this.db.run(async (tx) => {
      const now = new Date();
      const links = await tx.sessionLink.updateManyAndReturn({
        where: { orgId, sessionId, id, revokedAt: null },
        data: { revokedAt: now },
      });
      if (links.length === 0) return null;
      const grants = await tx.sessionGrant.updateManyAndReturn({
        where: { orgId, linkId: id, revokedAt: null },
        data: { revokedAt: now },
      });
      return { link: links[0], grants };
    });
  }

  /**
   * Counts one use of a live link, atomically (the use limit holds under concurrent opens). Null when the link
   * is unknown, revoked, expired or used up, or (given an org) belongs to another org: that spends no use.
   */
  async useLink(tokenHash: string, now: Date, orgId: string | null) {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE session_links SET uses = uses + 1
      WHERE token_hash = ${tokenHash} AND revoked_at IS NULL
        AND (${orgId}::uuid IS NULL OR org_id = ${orgId}::uuid)
        AND (expires_at IS NULL OR expires_at > ${now})
        AND (max_uses IS NULL OR uses < max_uses)
      RETURNING id`;
    if (rows.length === 0) return null;
    return this.prisma.sessionLink.findUnique({ where: { id: rows[0].id } });
  }

  // ---- comments ----

  /** Comments of a session (or of one file), oldest first. Replies carry their thread's path. */
  listComments(orgId: string, sessionId: string, path: string | undefined) {
    return this.prisma.comment.findMany({
      where: { orgId, sessionId, ...(path === undefined ? {} : { path }) },
      orderBy: { createdAt: 'asc' },
      take: 5000,
    });
  }

  findComment(orgId: string, sessionId: string, id: string) {
    return this.prisma.comment.findFirst({ where: { orgId, sessionId, id } });
  }

  createComment(data: {
    orgId: string;
    sessionId: string;
    threadId: string | null;
    anchor: CommentAnchor | null;
    path: string | null;
    author: Actor;
    body: string;
  }) {
    return this.prisma.comment.create({
      data: {
        ...data,
        anchor: (data.anchor ?? Prisma.DbNull) as Prisma.InputJsonValue,
        author: data.author as Prisma.InputJsonValue,
      },
    });
  }

  setResolved(orgId: string, id: string, by: Actor | null) {
    return this.prisma.comment.update({
      where: { id, orgId },
      data: {
        resolvedBy: (by ?? Prisma.DbNull) as Prisma.InputJsonValue,
        resolvedAt: by ? new Date() : null,
      },
    });
  }

  // ---- fork ----

  /** The session to fork (the fork itself is made by `StartSession`). */
  findSession(orgId: string, id: string) {
    return this.prisma.session.findFirst({ where: { orgId, id } });
  }
}
