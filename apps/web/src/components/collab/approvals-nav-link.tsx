'use client';

import Link from 'next/link';
import { usePendingApprovals } from '@/components/shell/pending-approvals';

/** A round count after the link's name, in the accent colours (inline-flex: the link's hover underline skips it). */
const BADGE =
  'ml-1 inline-flex min-w-5 items-center justify-center rounded-full bg-accent px-1.5 text-[12px] leading-5 font-bold text-accent-fg';

/**
 * "Approvals" in the main navigation, with the number waiting when there are any. The link's name says it in words,
 * "Approvals, 2 pending": the words around the badge are for screen readers only, so the name still holds the text
 * one sees (an `aria-label` would hide it).
 */
export function ApprovalsNavLink() {
  const count = usePendingApprovals().approvals?.length ?? 0;
  return (
    <Link href="/approvals/" data-testid="nav-approvals">
      Approvals
      {count > 0 && (
        <>
          <span className="sr-only">, </span>
          <span className={BADGE} data-testid="nav-approvals-count">
            {count}
          </span>
          <span className="sr-only"> pending</span>
        </>
      )}
    </Link>
  );
}
