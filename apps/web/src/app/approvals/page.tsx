import type { Metadata } from 'next';
import { Suspense } from 'react';
import { ApprovalsInbox } from '@/components/collab/approvals-inbox';

export const metadata: Metadata = { title: 'Approvals' };

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <ApprovalsInbox />
    </Suspense>
  );
}
