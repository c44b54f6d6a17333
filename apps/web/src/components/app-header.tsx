import Link from 'next/link';
import { AuditNavLink } from '@/components/audit/audit-nav-link';
import { ConnectionBadge } from '@/components/connection-badge';
import { IdentityBadge } from '@/components/identity-badge';
import { UsageNavLink } from '@/components/usage/usage-nav-link';

export function AppHeader() {
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        Yoke
      </Link>
      <nav className="app-nav" aria-label="Main">
        <Link href="/">Sessions</Link>
        <Link href="/approvals/">Approvals</Link>
        <Link href="/admin/">Admin</Link>
        <AuditNavLink />
        <UsageNavLink />
      </nav>
      <IdentityBadge />
      <ConnectionBadge />
    </header>
  );
}
