import type { Metadata } from 'next';
import { Suspense } from 'react';
import { JoinRoute } from '@/components/collab/join-route';

export const metadata: Metadata = { title: 'Join a session' };

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <JoinRoute />
    </Suspense>
  );
}
