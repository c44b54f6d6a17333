import { SetMetadata } from '@nestjs/common';
import type { OrgRole } from '@yoke/protocol';
import { hasRole, readsAudit } from './roles';

/**
 * Who may call a route or a socket event. Every REST handler and every @SubscribeMessage handler declares one
 * with @Allow(...): the global AccessGuard refuses a handler that has none, and the authorization matrix test
 * fails on it.
 * - `public`: nobody needs to be signed in (health, metrics, sign-in, a runner enrolling with its one-time token);
 * - `runner`: a runner socket authenticated with its credential (the /runner namespace);
 * - an org role: the least role admitted, in the order auditor < member < admin < owner. `auditor` means any
 *   member of the org (auditors read everything and change nothing); a `read`-scoped token acts as an auditor.
 * - `audit`: the org's audit log: owners, admins and auditors, not members (roles.ts `readsAudit`).
 */
export type AccessRule = 'public' | 'runner' | 'audit' | OrgRole;

export const ACCESS_RULE = 'yoke:access';

export const Allow = (rule: AccessRule) => SetMetadata(ACCESS_RULE, rule);

export { hasRole, readsAudit } from './roles';

/** Whether a principal with `role` (and, for a read-only token, its membership role) passes an org-role rule. */
export function admits(rule: OrgRole | 'audit', role: OrgRole, memberRole?: OrgRole): boolean {
  return rule === 'audit' ? readsAudit(role, memberRole) : hasRole(role, rule);
}

/** The role a caller acts with: its membership role, capped to auditor by a read-only token. */
export function effectiveRole(role: OrgRole, scope: 'read' | 'write'): OrgRole {
  return scope === 'read' ? 'auditor' : role;
}
