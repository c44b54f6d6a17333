import type { OrgRole } from '@yoke/protocol';

const RANK: Record<OrgRole, number> = { auditor: 0, member: 1, admin: 2, owner: 3 };

/** Whether `role` is at least `least`, in the order auditor < member < admin < owner. */
export function hasRole(role: OrgRole, least: OrgRole): boolean {
  return RANK[role] >= RANK[least];
}
