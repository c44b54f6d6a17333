import { Suspense } from 'react';
import { JoinRoute } from '@/components/collab/join-route';

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <JoinRoute />
    </Suspense>
  );
}
