import { Injectable } from '@nestjs/common';
import type { OrgRole } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

@Injectable()
export class OrgsRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  countOrgs() {
    return this.prisma.org.count();
  }

  findMembership(orgSlug: string, email: string) {
    return this.prisma.membership.findFirst({
      where: { org: { slug: orgSlug }, user: { email } },
      include: { org: true, user: true },
    });
  }

  /** Creates an org with its first owner, idempotently by slug and email. */
  async ensureOrgWithOwner(org: { slug: string; name: string }, user: { email: string; name: string }) {
    return this.db.run(async (tx) => {
      const o = await tx.org.upsert({ where: { slug: org.slug }, update: {}, create: org });
      const u = await tx.user.upsert({ where: { email: user.email }, update: {}, create: user });
      const m = await tx.membership.upsert({
        where: { orgId_userId: { orgId: o.id, userId: u.id } },
        update: {},
        create: { orgId: o.id, userId: u.id, role: 'owner' },
      });
      return { org: o, user: u, role: m.role };
    });
  }

  findOrgBySlug(slug: string) {
    return this.prisma.org.findUnique({ where: { slug } });
  }

  getOrg(orgId: string) {
    return this.prisma.org.findUniqueOrThrow({ where: { id: orgId } });
  }

  /** A new org owned by an existing user; null when the slug is taken. */
  async createOrg(data: { slug: string; name: string }, ownerId: string) {
    return this.db.run(async (tx) => {
      if (await tx.org.findUnique({ where: { slug: data.slug } })) return null;
      const org = await tx.org.create({ data });
      await tx.membership.create({ data: { orgId: org.id, userId: ownerId, role: 'owner' } });
      return org;
    });
  }

  listMembers(orgId: string) {
    return this.prisma.membership.findMany({
      where: { orgId },
      include: { user: true },
      orderBy: { createdAt: 'asc' },
    });
  }

  findMember(orgId: string, userId: string) {
    return this.prisma.membership.findUnique({ where: { orgId_userId: { orgId, userId } }, include: { user: true } });
  }

  countOwners(orgId: string) {
    return this.prisma.membership.count({ where: { orgId, role: 'owner' } });
  }

  /**
   * Changes a member's role, atomically refusing to leave the org without an owner. Returns the membership,
   * 'last_owner', or null when there is no such member.
   */
  async setRole(orgId: string, userId: string, role: OrgRole) {
    return this.db.run(async (tx) => {
      const m = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId } } });
      if (!m) return null;
      if (m.role === 'owner' && role !== 'owner') {
        const owners = await tx.membership.count({ where: { orgId, role: 'owner' } });
        if (owners <= 1) return 'last_owner' as const;
      }
      return tx.membership.update({
        where: { orgId_userId: { orgId, userId } },
        data: { role },
        include: { user: true },
      });
    });
  }

  /** Removes a member and ends their tokens and browser sessions in this org. */
  async removeMember(orgId: string, userId: string, now: Date) {
    return this.db.run(async (tx) => {
      const m = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId } } });
      if (!m) return null;
      if (m.role === 'owner' && (await tx.membership.count({ where: { orgId, role: 'owner' } })) <= 1) {
        return 'last_owner' as const;
      }
      await tx.membership.delete({ where: { orgId_userId: { orgId, userId } } });
      await tx.apiToken.updateMany({ where: { orgId, userId, revokedAt: null }, data: { revokedAt: now } });
      await tx.webSession.updateMany({ where: { orgId, userId, revokedAt: null }, data: { revokedAt: now } });
      return m;
    });
  }

  createInvitation(data: { orgId: string; email: string; role: OrgRole; invitedById: string; expiresAt: Date }) {
    return this.prisma.invitation.create({ data });
  }

  listInvitations(orgId: string, now: Date) {
    return this.prisma.invitation.findMany({
      where: { orgId, revokedAt: null, acceptedAt: null, expiresAt: { gt: now } },
      orderBy: { createdAt: 'desc' },
    });
  }

  async revokeInvitation(orgId: string, id: string, now: Date): Promise<boolean> {
    const r = await this.prisma.invitation.updateMany({
      where: { orgId, id, revokedAt: null, acceptedAt: null },
      data: { revokedAt: now },
    });
    return r.count === 1;
  }

  /** The newest live invitation of an email to an org. */
  findOpenInvitation(orgId: string, email: string, now: Date) {
    return this.prisma.invitation.findFirst({
      where: { orgId, email, revokedAt: null, acceptedAt: null, expiresAt: { gt: now } },
      orderBy: { createdAt: 'desc' },
    });
  }

  findSso(orgId: string) {
    return this.prisma.orgSso.findUnique({ where: { orgId } });
  }

  upsertSso(
    orgId: string,
    data: { issuer: string; clientId: string; clientSecretEnc: string; allowedDomains: string[]; defaultRole: OrgRole },
  ) {
    return this.prisma.orgSso.upsert({ where: { orgId }, update: data, create: { orgId, ...data } });
  }

  async deleteSso(orgId: string): Promise<boolean> {
    const r = await this.prisma.orgSso.deleteMany({ where: { orgId } });
    return r.count === 1;
  }

  /**
   * Signs in a verified identity: finds the user by (issuer, subject) or by email, creates them just in time, and
   * makes them a member with the invited role (or the default one) unless they already are. Returns the user and
   * role, or null when they are not a member and may not become one.
   */
  async provision(
    orgId: string,
    identity: { issuer: string; subject: string; email: string; name: string },
    joinAs: OrgRole | null,
    invitationId: string | null,
    now: Date,
  ) {
    return this.db.run(async (tx) => {
      const linked = await tx.identity.findUnique({
        where: { issuer_subject: { issuer: identity.issuer, subject: identity.subject } },
        include: { user: true },
      });
      let user = linked?.user ?? (await tx.user.findUnique({ where: { email: identity.email } }));
      const existing = user
        ? await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId: user.id } } })
        : null;
      if (!existing && !joinAs) return null;
      if (!user) user = await tx.user.create({ data: { email: identity.email, name: identity.name } });
      if (!linked) {
        await tx.identity.create({
          data: { issuer: identity.issuer, subject: identity.subject, userId: user.id, orgId },
        });
      }
      const role =
        existing?.role ??
        (await tx.membership.create({ data: { orgId, userId: user.id, role: joinAs as OrgRole } })).role;
      if (!existing && invitationId) {
        await tx.invitation.update({ where: { id: invitationId }, data: { acceptedAt: now } });
      }
      return { user, role };
    });
  }

  saveOidcState(data: { stateHash: string; orgId: string; expiresAt: Date }) {
    return this.prisma.oidcState.create({ data });
  }

  /** Uses an OIDC state once: the org it was issued for, or null when unknown, used or expired. */
  async consumeOidcState(stateHash: string, now: Date): Promise<string | null> {
    const row = await this.prisma.oidcState.findUnique({ where: { stateHash } });
    if (!row) return null;
    const r = await this.prisma.oidcState.updateMany({
      where: { stateHash, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    return r.count === 1 ? row.orgId : null;
  }

  /** Forgets sign-in states that expired before `before` (used or not): they can only be refused anyway. */
  async pruneOidcStates(before: Date): Promise<void> {
    await this.prisma.oidcState.deleteMany({ where: { expiresAt: { lt: before } } });
  }
}
