import type { OrgRole } from '@yoke/protocol';

const RANK: Record<OrgRole, number> = { auditor: 0, member: 1, admin: 2, owner: 3 };

/** Whether `role` is at least `least`, in the order auditor < member < admin < owner. */
export function hasRole(role: OrgRole, least: OrgRole): boolean {
  return RANK[role] >= RANK[least];
}

/**
 * Who reads the org's audit log: owners, admins and auditors, never a member (not even through a read-only token,
 * which acts as an auditor elsewhere: `memberRole` is the membership role behind the token).
 */
export function readsAudit(role: OrgRole, memberRole: OrgRole = role): boolean {
  return memberRole !== 'member' && (role === 'owner' || role === 'admin' || role === 'auditor');
}
