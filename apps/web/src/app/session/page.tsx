import type { Metadata } from 'next';
import { Suspense } from 'react';
import { SessionRoute } from '@/components/session/session-route';

export const metadata: Metadata = { title: 'Session' };

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <SessionRoute />
    </Suspense>
  );
}
