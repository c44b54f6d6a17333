import { SetMetadata } from '@nestjs/common';

/**
 * What a REST route or socket event writes to the audit log (DESIGN §9, "complete by construction"). Every handler
 * declares one of the two: `@Audited(actions…)` names the events its service records, `@NotAudited(reason)` says why
 * it records none (a read of the caller's own data, presence, a heartbeat…). The authorization matrix test fails
 * on a handler that declares neither, as it does on one without an @Allow rule.
 */
export type AuditDeclaration = { actions: string[] } | { none: string };

export const AUDIT_DECLARATION = 'yoke:audit';

export const Audited = (...actions: [string, ...string[]]) =>
  SetMetadata(AUDIT_DECLARATION, { actions } satisfies AuditDeclaration);

export const NotAudited = (reason: string) =>
  SetMetadata(AUDIT_DECLARATION, { none: reason } satisfies AuditDeclaration);
