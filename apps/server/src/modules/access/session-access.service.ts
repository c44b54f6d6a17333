import { Injectable } from '@nestjs/common';
import { AppError, hasSessionRole, type SessionAccess, type SessionRole } from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { AccessRepository } from './access.repository';

export type Capability = 'view' | 'comment' | 'drive' | 'approve' | 'share' | 'archive';

/** A member's live grant in a session, as the access rules read it. */
export type UserGrant = { id: string; role: SessionRole; canApprove: boolean; linkId: string | null };

export type ResolvedAccess = SessionAccess & {
  /** The grant (and link) this access comes from; sockets join their rooms so a revoke reaches them. */
  grantId: string | null;
  linkId: string | null;
};

const NEEDS: Record<Exclude<Capability, 'approve'>, SessionRole> = {
  view: 'viewer',
  comment: 'commenter',
  drive: 'driver',
  share: 'owner',
  archive: 'owner',
};

const REFUSAL: Record<Capability, string> = {
  view: 'you cannot see this session',
  comment: 'viewers cannot comment; ask the owner for commenter access',
  drive: 'viewers and commenters cannot send prompts or cancel; ask the owner for driver access',
  approve: 'only the session owner (or someone they delegated to) can answer approvals',
  share: 'only the session owner can share it',
  archive: 'only the session owner can archive or restore it',
};

/**
 * Roles in a session: the owner; a member or guest with a live grant gets its role; org owners, admins and
 * auditors may watch any session of their org (viewer); plain members see only what is shared with them. A link
 * guest's credential opens its one session and nothing else.
 */
@Injectable()
export class SessionAccessService {
  constructor(private readonly repo: AccessRepository) {}

  async resolve(p: Principal, sessionId: string): Promise<ResolvedAccess> {
    if (p.scope && p.scope.sessionId !== sessionId) throw new AppError('session.not_found', 'no such session');
    const session = await this.repo.findSessionOwner(p.orgId, sessionId);
    if (!session) throw new AppError('session.not_found', 'no such session');
    const needsGrant = !p.scope && session.ownerId !== p.userId;
    const grant = needsGrant ? await this.repo.findUserGrant(p.orgId, sessionId, p.userId) : null;
    return accessFrom(p, session, grant);
  }

  /** Which sessions the caller may list: null for all of the org, else the ones they own or were granted. */
  async visibleSessions(p: Principal): Promise<{ ownerId: string; grantedIds: string[] } | null> {
    if (p.scope) return { ownerId: p.userId, grantedIds: [p.scope.sessionId] };
    if (p.role !== 'member') return null;
    return { ownerId: p.userId, grantedIds: await this.repo.grantedSessionIds(p.orgId, p.userId) };
  }

  /** Resolves and insists on a capability: `auth.forbidden` (403) otherwise. */
  async require(p: Principal, sessionId: string, capability: Capability): Promise<ResolvedAccess> {
    const access = await this.resolve(p, sessionId);
    if (!allows(access, capability)) throw new AppError('auth.forbidden', REFUSAL[capability]);
    return access;
  }
}

/**
 * The caller's access to a session of their org (read by the caller with `orgId` = `p.orgId`) from its owner and the
 * caller's live grant in it (the most recent; null when none): what `resolve` decides, for a caller that read the
 * session and the grant together. Throws `session.not_found` where the caller may not see it.
 */
export function accessFrom(
  p: Principal,
  session: { id: string; ownerId: string },
  grant: UserGrant | null,
): ResolvedAccess {
  const sessionId = session.id;
  if (p.scope && p.scope.sessionId !== sessionId) throw new AppError('session.not_found', 'no such session');
  const actor = { id: p.userId, name: p.name };
  if (p.scope) {
    return view(sessionId, actor, p.scope.role, false, true, p.scope.grantId, p.scope.linkId);
  }
  if (session.ownerId === p.userId) return view(sessionId, actor, 'owner', true, false, null, null);
  if (grant) return view(sessionId, actor, grant.role, grant.canApprove, false, grant.id, grant.linkId);
  // Org oversight: owners, admins and auditors may watch any session of the org; members see what is shared.
  if (p.role === 'member') throw new AppError('session.not_found', 'no such session');
  return view(sessionId, actor, 'viewer', false, false, null, null);
}

/** `accessFrom`, insisting on a capability: `auth.forbidden` (403) otherwise. */
export function requireFrom(
  p: Principal,
  session: { id: string; ownerId: string },
  grant: UserGrant | null,
  capability: Capability,
): ResolvedAccess {
  const access = accessFrom(p, session, grant);
  if (!allows(access, capability)) throw new AppError('auth.forbidden', REFUSAL[capability]);
  return access;
}

export function allows(access: SessionAccess, capability: Capability): boolean {
  if (capability === 'approve') return access.canApprove;
  return hasSessionRole(access.role, NEEDS[capability]);
}

function view(
  sessionId: string,
  actor: { id: string; name: string },
  role: SessionRole,
  canApprove: boolean,
  isGuest: boolean,
  grantId: string | null,
  linkId: string | null,
): ResolvedAccess {
  return {
    sessionId,
    actor,
    role,
    isGuest,
    canDrive: hasSessionRole(role, 'driver'),
    canComment: hasSessionRole(role, 'commenter'),
    canApprove: role === 'owner' || canApprove,
    canShare: role === 'owner',
    grantId,
    linkId,
  };
}
