import { Suspense } from 'react';
import { ApprovalsInbox } from '@/components/collab/approvals-inbox';

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <ApprovalsInbox />
    </Suspense>
  );
}
