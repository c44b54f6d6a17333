import { Injectable } from '@nestjs/common';
import {
  AppError,
  type CreateInviteBody,
  type CreateLinkBody,
  type RedeemLinkBody,
  type RedeemLinkReply,
  rooms,
  type SessionShares,
  type ShareGrant,
  type ShareLink,
  type UpdateGrantBody,
} from '@yoke/protocol';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { Transactions } from '../../core/prisma/transactions';
import { type AuditEntry, AuditTrail } from '../audit/audit-trail.service';
import { hashSecret, newSecret } from '../../core/tokens';
import { GUEST_CREDENTIAL_PREFIX } from '../access/guest-credentials';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { SessionQueriesService } from '../sessions/session-queries.service';
import { toGrant, toLink } from './collab.mappers';
import { CollabRepository, type GrantRow } from './collab.repository';

const LINK_TOKEN_PREFIX = 'yks';

/**
 * Sharing a session: invite an org member with a role, or make a link (role, expiry, use limit). Revoking ends
 * access at once: the sockets that came through that share are disconnected on every replica.
 */
@Injectable()
export class SharesService {
  constructor(
    private readonly repo: CollabRepository,
    private readonly access: SessionAccessService,
    private readonly publisher: RealtimePublisher,
    private readonly sessions: SessionQueriesService,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
  ) {}

  async list(p: Principal, sessionId: string): Promise<SessionShares> {
    await this.access.require(p, sessionId, 'share');
    const [grants, links] = await Promise.all([
      this.repo.listGrants(p.orgId, sessionId),
      this.repo.listLinks(p.orgId, sessionId),
    ]);
    return { grants: await this.withUsers(p.orgId, grants), links: links.map((l) => toLink(l)) };
  }

  async invite(p: Principal, sessionId: string, body: CreateInviteBody): Promise<ShareGrant> {
    await this.access.require(p, sessionId, 'share');
    if (body.userId === p.userId) throw new AppError('request.invalid', 'you already own this session');
    if (!(await this.repo.isMember(p.orgId, body.userId))) {
      throw new AppError('request.invalid', 'that user is not a member of this org');
    }
    const row = await this.tx.run(async () => {
      const grant = await this.repo.grantUser({
        orgId: p.orgId,
        sessionId,
        userId: body.userId,
        role: body.role,
        canApprove: body.canApprove ?? false,
        linkId: null,
        createdById: p.userId,
      });
      await this.audit.record({
        orgId: p.orgId,
        action: 'share.created',
        target: { kind: 'share_grant', id: grant.id },
        sessionId,
        details: { shareKind: 'invite', userId: body.userId, role: grant.role, canApprove: grant.canApprove },
      });
      return grant;
    });
    // Their open views re-join with the new role; their session lists show it from now on.
    this.publisher.removeFromSession(body.userId, sessionId, `your role is now ${body.role}`);
    this.publisher.sharedWith(body.userId, await this.sessions.get(p, sessionId));
    return (await this.withUsers(p.orgId, [row]))[0];
  }

  async updateGrant(p: Principal, sessionId: string, grantId: string, body: UpdateGrantBody): Promise<ShareGrant> {
    await this.access.require(p, sessionId, 'share');
    const row = await this.tx.run(async () => {
      const grant = await this.repo.findGrant(p.orgId, sessionId, grantId);
      if (!grant) throw new AppError('share.not_found', 'no such share');
      const updated = await this.repo.updateGrant(p.orgId, grantId, body);
      await this.audit.record({
        orgId: p.orgId,
        action: 'share.grant_changed',
        target: { kind: 'share_grant', id: grantId },
        sessionId,
        details: {
          userId: updated.userId,
          from: grant.role,
          to: updated.role,
          canApproveFrom: grant.canApprove,
          canApproveTo: updated.canApprove,
        },
      });
      return updated;
    });
    if (row.userId) this.publisher.removeFromSession(row.userId, sessionId, `your role is now ${row.role}`);
    return (await this.withUsers(p.orgId, [row]))[0];
  }

  async revokeGrant(p: Principal, sessionId: string, grantId: string): Promise<void> {
    await this.access.require(p, sessionId, 'share');
    const row = await this.tx.run(async () => {
      const revoked = await this.repo.revokeGrant(p.orgId, sessionId, grantId);
      if (!revoked) throw new AppError('share.not_found', 'no such share');
      await this.audit.record({
        orgId: p.orgId,
        action: 'share.grant_revoked',
        target: { kind: 'share_grant', id: grantId },
        sessionId,
        details: { userId: revoked.userId, role: revoked.role, linkId: revoked.linkId },
      });
      return revoked;
    });
    this.kick(row, 'the owner stopped sharing this session with you');
  }

  async createLink(p: Principal, sessionId: string, body: CreateLinkBody): Promise<ShareLink> {
    await this.access.require(p, sessionId, 'share');
    const token = newSecret(LINK_TOKEN_PREFIX);
    const row = await this.tx.run(async () => {
      const link = await this.repo.createLink({
        orgId: p.orgId,
        sessionId,
        role: body.role,
        tokenHash: hashSecret(token),
        expiresAt: body.expiresInSeconds ? new Date(Date.now() + body.expiresInSeconds * 1000) : null,
        maxUses: body.maxUses ?? null,
        createdById: p.userId,
      });
      await this.audit.record({
        orgId: p.orgId,
        action: 'share.created',
        target: { kind: 'share_link', id: link.id },
        sessionId,
        details: {
          shareKind: 'link',
          role: link.role,
          expiresAt: link.expiresAt?.toISOString() ?? null,
          maxUses: link.maxUses,
        },
      });
      return link;
    });
    return toLink(row, token);
  }

  async revokeLink(p: Principal, sessionId: string, linkId: string): Promise<void> {
    await this.access.require(p, sessionId, 'share');
    const revoked = await this.tx.run(async () => {
      const r = await this.repo.revokeLink(p.orgId, sessionId, linkId);
      if (!r) throw new AppError('share.not_found', 'no such share link');
      await this.audit.record({
        orgId: p.orgId,
        action: 'share.revoked',
        target: { kind: 'share_link', id: linkId },
        sessionId,
        details: { role: r.link.role, grantsRevoked: r.grants.length },
      });
      return r;
    });
    const message = 'the share link you opened this session with was revoked';
    this.publisher.disconnectRoom(rooms.share(linkId), sessionId, message);
    for (const grant of revoked.grants) this.kick(grant, message);
  }

  /** An org member opens a link: they get its role in the session (kept until the link or grant is revoked). */
  async redeemAsMember(p: Principal, body: RedeemLinkBody): Promise<RedeemLinkReply> {
    if (p.scope) throw new AppError('auth.forbidden', 'a share-link credential cannot open other links');
    const { link, granted } = await this.tx.run(async () => {
      const link = await this.use(body.token, p.orgId);
      // A plain member who was never shared the session has no role in it yet (resolve says not found).
      const current = await this.access.resolve(p, link.sessionId).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'session.not_found') return null;
        throw err;
      });
      // Never lower a standing role (the owner opening their own link, a driver opening a viewer link).
      const keeps =
        current && (current.role === 'owner' || (current.grantId && rankOf(current.role) >= rankOf(link.role)));
      const grant = keeps
        ? null
        : await this.repo.grantUser({
            orgId: link.orgId,
            sessionId: link.sessionId,
            userId: p.userId,
            role: link.role,
            canApprove: false,
            linkId: link.id,
            createdById: null,
          });
      await this.audit.record(redeemed(link, grant?.id ?? null), ...(grant ? [linkGrant(link, grant, p.userId)] : []));
      return { link, granted: grant !== null };
    });
    if (granted) this.publisher.sharedWith(p.userId, await this.sessions.get(p, link.sessionId));
    return { sessionId: link.sessionId, role: link.role, credential: null };
  }

  /** Someone without an account opens a link: a credential that opens this one session while the link lives. */
  async redeemAsGuest(body: RedeemLinkBody): Promise<RedeemLinkReply> {
    const credential = newSecret(GUEST_CREDENTIAL_PREFIX);
    const link = await this.tx.run(async () => {
      const link = await this.use(body.token, null);
      const grant = await this.repo.createGuestGrant({
        orgId: link.orgId,
        sessionId: link.sessionId,
        guestName: body.guestName ?? null,
        credentialHash: hashSecret(credential),
        role: link.role,
        linkId: link.id,
      });
      // From here on the guest is its grant (as every later event of theirs names it).
      const actor = { kind: 'guest' as const, id: grant.id, name: grant.guestName ?? 'Guest' };
      await this.audit.record(
        { ...redeemed(link, grant.id), actor },
        {
          orgId: link.orgId,
          action: 'guest.joined',
          target: { kind: 'share_grant', id: grant.id, name: actor.name },
          sessionId: link.sessionId,
          actor,
          details: { role: grant.role, linkId: link.id },
        },
      );
      return link;
    });
    return { sessionId: link.sessionId, role: link.role, credential };
  }

  private async use(token: string, orgId: string | null) {
    const link = await this.repo.useLink(hashSecret(token), new Date(), orgId);
    if (!link) throw new AppError('share.not_found', 'this share link does not exist or has ended');
    return link;
  }

  private kick(grant: GrantRow, message: string): void {
    this.publisher.disconnectRoom(rooms.share(grant.id), grant.sessionId, message);
    if (grant.userId) {
      this.publisher.removeFromSession(grant.userId, grant.sessionId, message);
      this.publisher.unshared(grant.userId, grant.sessionId);
    }
  }

  private async withUsers(orgId: string, rows: GrantRow[]): Promise<ShareGrant[]> {
    const users = await this.repo.usersByIds(
      orgId,
      rows.flatMap((r) => (r.userId ? [r.userId] : [])),
    );
    const byId = new Map(users.map((u) => [u.id, u]));
    return rows.map((r) => toGrant(r, r.userId ? (byId.get(r.userId) ?? null) : null));
  }
}

type LinkRow = { id: string; orgId: string; sessionId: string; role: string; uses: number; maxUses: number | null };

/** A link was opened (and one of its uses spent). */
function redeemed(link: LinkRow, grantId: string | null): AuditEntry {
  return {
    orgId: link.orgId,
    action: 'share.redeemed',
    target: { kind: 'share_link', id: link.id },
    sessionId: link.sessionId,
    details: { role: link.role, grantId, uses: link.uses, maxUses: link.maxUses },
  };
}

/** A member got a role in the session through a link. */
function linkGrant(link: LinkRow, grant: { id: string; role: string }, userId: string): AuditEntry {
  return {
    orgId: link.orgId,
    action: 'share.granted',
    target: { kind: 'share_grant', id: grant.id },
    sessionId: link.sessionId,
    details: { userId, role: grant.role, linkId: link.id },
  };
}

function rankOf(role: string): number {
  return ['viewer', 'commenter', 'driver', 'owner'].indexOf(role);
}
