import Link from 'next/link';
import { AuditNavLink } from '@/components/audit/audit-nav-link';
import { ApprovalsNavLink } from '@/components/collab/approvals-nav-link';
import { ConnectionBadge } from '@/components/connection-badge';
import { IdentityBadge } from '@/components/identity-badge';
import { NewSessionButton } from '@/components/new-session/new-session-button';
import { NewSessionLauncher } from '@/components/new-session/new-session-launcher';
import { UsageNavLink } from '@/components/usage/usage-nav-link';

/*
 * On a 390 px phone the five links crowd the connection badge: below 480 px the navigation takes a second line of its
 * own under the name, the New session button and the badge, its links closer together.
 */
const HEADER =
  'app-header sticky top-0 z-10 flex items-center justify-between gap-3 border-b border-border bg-surface px-4 py-2.5 max-[480px]:flex-wrap max-[480px]:gap-x-2 max-[480px]:gap-y-1';
const NAV =
  'mr-auto ml-3 flex gap-3 max-[480px]:order-last max-[480px]:mx-0 max-[480px]:w-full max-[480px]:flex-wrap max-[480px]:gap-x-3 max-[480px]:gap-y-0.5 [&_a]:font-medium [&_a]:text-accent [&_a]:no-underline [&_a:hover]:underline';

export function AppHeader() {
  return (
    <header className={HEADER}>
      <Link href="/" className="text-[18px] font-extrabold text-fg no-underline max-[480px]:mr-auto">
        Yoke
      </Link>
      <nav className={NAV} aria-label="Main">
        <Link href="/">Sessions</Link>
        <ApprovalsNavLink />
        <Link href="/admin/">Admin</Link>
        <AuditNavLink />
        <UsageNavLink />
      </nav>
      <NewSessionButton />
      <NewSessionLauncher />
      <IdentityBadge />
      <ConnectionBadge />
    </header>
  );
}
