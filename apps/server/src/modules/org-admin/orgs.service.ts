import { Inject, Injectable } from '@nestjs/common';
import {
  AppError,
  type CreateInvitationBody,
  type CreateOrgBody,
  type CreatedToken,
  type InvitationView,
  type MeView,
  type MemberView,
  type OrgRole,
  type OrgView,
  rooms,
  type SsoConfigBody,
  type SsoConfigView,
} from '@yoke/protocol';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { PrincipalCache } from '../../core/auth/principal-cache';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import type { Principal } from '../../core/auth/principal';
import { SecretBox } from '../../core/auth/secret-box';
import { TokensService } from '../auth/tokens.service';
import { OrgsRepository } from '../orgs/orgs.repository';

const LAST_OWNER = 'an org keeps at least one owner: this is its last owner; make another member an owner first';

/** Orgs, their members and roles, invitations and single sign-on settings. */
@Injectable()
export class OrgsService {
  constructor(
    private readonly repo: OrgsRepository,
    private readonly tokens: TokensService,
    private readonly box: SecretBox,
    private readonly publisher: RealtimePublisher,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly principals: PrincipalCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  me(p: Principal): MeView {
    return { ...p, mode: this.config.embedded ? 'embedded' : 'team' };
  }

  async current(p: Principal): Promise<OrgView> {
    return orgView(await this.repo.getOrg(p.orgId));
  }

  /** A new org owned by the caller, with an API token to act in it (tokens are scoped to one org). */
  async create(p: Principal, body: CreateOrgBody): Promise<{ org: OrgView; token: CreatedToken }> {
    return this.tx.run(async () => {
      const org = await this.repo.createOrg(body, p.userId);
      if (!org) throw new AppError('org.slug_taken', `the org slug "${body.slug}" is taken`);
      // The new org's log starts with its founding (the founder acts from the org they were signed in to).
      await this.audit.record({
        orgId: org.id,
        action: 'org.created',
        target: { kind: 'org', id: org.id, name: org.slug },
        details: { slug: org.slug, name: org.name, ownerId: p.userId, fromOrgId: p.orgId },
      });
      const token = await this.tokens.issue(org.id, p.userId, {
        name: `created ${body.slug}`,
        scope: 'write',
        ttlSeconds: 30 * 24 * 3600,
      });
      return { org: orgView(org), token };
    });
  }

  async members(p: Principal): Promise<MemberView[]> {
    return (await this.repo.listMembers(p.orgId)).map(memberView);
  }

  async setRole(p: Principal, userId: string, role: OrgRole): Promise<MemberView> {
    const target = await this.repo.findMember(p.orgId, userId);
    if (!target) throw new AppError('member.not_found', 'no such member');
    if ((target.role === 'owner' || role === 'owner') && p.role !== 'owner') {
      throw new AppError('auth.forbidden', 'only owners grant or take away the owner role');
    }
    const r = await this.tx.run(async () => {
      const updated = await this.repo.setRole(p.orgId, userId, role);
      if (!updated) throw new AppError('member.not_found', 'no such member');
      if (updated === 'last_owner') throw new AppError('member.last_owner', LAST_OWNER);
      // Their tokens carry the old role: resolved again on their next request (other replicas: PRINCIPAL_TTL_MS).
      this.tx.afterCommit(() => this.principals.invalidate());
      await this.audit.record({
        orgId: p.orgId,
        action: 'member.role_changed',
        target: memberTarget(updated),
        details: { from: target.role, to: updated.role },
      });
      return updated;
    });
    // Their live sockets carry the old role: close them; they come back with the new one.
    if (r.role !== target.role) this.publisher.disconnectWeb(rooms.member(p.orgId, userId));
    return memberView(r);
  }

  async remove(p: Principal, userId: string): Promise<void> {
    const target = await this.repo.findMember(p.orgId, userId);
    if (!target) throw new AppError('member.not_found', 'no such member');
    if (target.role === 'owner' && p.role !== 'owner')
      throw new AppError('auth.forbidden', 'only owners remove owners');
    await this.tx.run(async () => {
      const r = await this.repo.removeMember(p.orgId, userId, new Date());
      if (!r) throw new AppError('member.not_found', 'no such member');
      if (r === 'last_owner') throw new AppError('member.last_owner', LAST_OWNER);
      // Their tokens were revoked with the membership: refused here at once (other replicas: PRINCIPAL_TTL_MS).
      this.tx.afterCommit(() => this.principals.invalidate());
      await this.audit.record({
        orgId: p.orgId,
        action: 'member.removed',
        target: memberTarget(target),
        details: { role: r.role },
      });
    });
    this.publisher.disconnectWeb(rooms.member(p.orgId, userId));
  }

  async invite(p: Principal, body: CreateInvitationBody, origin: string): Promise<InvitationView> {
    if (body.role === 'owner' && p.role !== 'owner') throw new AppError('auth.forbidden', 'only owners invite owners');
    const inv = await this.tx.run(async () => {
      const created = await this.repo.createInvitation({
        orgId: p.orgId,
        email: body.email.toLowerCase(),
        role: body.role,
        invitedById: p.userId,
        expiresAt: new Date(Date.now() + body.ttlSeconds * 1000),
      });
      await this.audit.record({
        orgId: p.orgId,
        action: 'member.invited',
        target: { kind: 'invitation', id: created.id, name: created.email },
        details: { email: created.email, role: created.role, expiresAt: created.expiresAt.toISOString() },
      });
      return created;
    });
    return invitationView(inv, await this.loginUrl(p.orgId, origin));
  }

  async invitations(p: Principal, origin: string): Promise<InvitationView[]> {
    const url = await this.loginUrl(p.orgId, origin);
    return (await this.repo.listInvitations(p.orgId, new Date())).map((i) => invitationView(i, url));
  }

  async revokeInvitation(p: Principal, id: string): Promise<void> {
    await this.tx.run(async () => {
      if (!(await this.repo.revokeInvitation(p.orgId, id, new Date()))) {
        throw new AppError('invitation.not_found', 'no such invitation');
      }
      await this.audit.record({ orgId: p.orgId, action: 'invitation.revoked', target: { kind: 'invitation', id } });
    });
  }

  async sso(p: Principal, origin: string): Promise<SsoConfigView> {
    const sso = await this.repo.findSso(p.orgId);
    if (!sso) throw new AppError('auth.sso_not_configured', 'this org has no single sign-on yet');
    return this.ssoView(p.orgId, sso, origin);
  }

  async setSso(p: Principal, body: SsoConfigBody, origin: string): Promise<SsoConfigView> {
    assertIssuerAllowed(body.issuer);
    const allowedDomains = body.allowedDomains.map((d) => d.toLowerCase());
    const sso = await this.tx.run(async () => {
      const saved = await this.repo.upsertSso(p.orgId, {
        issuer: body.issuer,
        clientId: body.clientId,
        clientSecretEnc: this.box.encrypt(body.clientSecret),
        allowedDomains,
        defaultRole: body.defaultRole,
      });
      // Never the client secret, not even hashed: only that one was set.
      await this.audit.record({
        orgId: p.orgId,
        action: 'sso.updated',
        target: { kind: 'sso', id: p.orgId, name: body.issuer.slice(0, 500) },
        details: {
          issuer: body.issuer,
          clientId: body.clientId,
          allowedDomains: allowedDomains.join(', '),
          defaultRole: body.defaultRole,
          clientSecretSet: true,
        },
      });
      return saved;
    });
    return this.ssoView(p.orgId, sso, origin);
  }

  async deleteSso(p: Principal): Promise<void> {
    await this.tx.run(async () => {
      if (!(await this.repo.deleteSso(p.orgId)))
        throw new AppError('auth.sso_not_configured', 'no single sign-on to remove');
      await this.audit.record({ orgId: p.orgId, action: 'sso.removed', target: { kind: 'sso', id: p.orgId } });
    });
  }

  base(origin: string): string {
    return this.config.publicUrl ?? origin;
  }

  /** Where members sign in: the org's single sign-on (an invitation applies when the verified email matches). */
  private async loginUrl(orgId: string, origin: string): Promise<string> {
    const org = await this.repo.getOrg(orgId);
    return `${this.base(origin)}/api/v1/auth/oidc/login?org=${encodeURIComponent(org.slug)}`;
  }

  private async ssoView(
    orgId: string,
    sso: { issuer: string; clientId: string; allowedDomains: unknown; defaultRole: OrgRole; updatedAt: Date },
    origin: string,
  ): Promise<SsoConfigView> {
    return {
      issuer: sso.issuer,
      clientId: sso.clientId,
      allowedDomains: sso.allowedDomains as string[],
      defaultRole: sso.defaultRole,
      loginUrl: await this.loginUrl(orgId, origin),
      callbackUrl: `${this.base(origin)}/api/v1/auth/oidc/callback`,
      updatedAt: sso.updatedAt.toISOString(),
    };
  }
}

/** Issuers must be https, except on loopback (a provider on this machine, as in development and tests). */
export function assertIssuerAllowed(issuer: string): void {
  const u = new URL(issuer);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw new AppError('request.invalid', 'the issuer must be an https URL');
  }
}

function memberTarget(m: { userId: string; user: { email: string } }) {
  return { kind: 'member', id: m.userId, name: m.user.email };
}

function orgView(o: { id: string; slug: string; name: string; createdAt: Date }): OrgView {
  return { id: o.id, slug: o.slug, name: o.name, createdAt: o.createdAt.toISOString() };
}

function memberView(m: {
  userId: string;
  role: OrgRole;
  createdAt: Date;
  user: { email: string; name: string };
}): MemberView {
  return {
    userId: m.userId,
    email: m.user.email,
    name: m.user.name,
    role: m.role,
    createdAt: m.createdAt.toISOString(),
  };
}

function invitationView(
  i: { id: string; email: string; role: OrgRole; expiresAt: Date; acceptedAt: Date | null; createdAt: Date },
  loginUrl: string,
): InvitationView {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    expiresAt: i.expiresAt.toISOString(),
    acceptedAt: i.acceptedAt?.toISOString() ?? null,
    createdAt: i.createdAt.toISOString(),
    loginUrl,
  };
}
