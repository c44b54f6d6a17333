import Link from 'next/link';

/** "Usage" in the main navigation: every member of the org has one (a member's shows their own calls). */
export function UsageNavLink() {
  return (
    <Link href="/usage/" data-testid="nav-usage">
      Usage
    </Link>
  );
}
