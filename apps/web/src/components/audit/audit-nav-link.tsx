'use client';

import Link from 'next/link';
import { readsAudit } from '@/components/audit/audit-api';
import { useMyRole } from '@/hooks/use-my-role';

/** "Audit" in the main navigation, for owners, admins and auditors only (members never read the log). */
export function AuditNavLink() {
  const me = useMyRole();
  if (!me || !readsAudit(me)) return null;
  return (
    <Link href="/audit/" data-testid="nav-audit">
      Audit
    </Link>
  );
}
