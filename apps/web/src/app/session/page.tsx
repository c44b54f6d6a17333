import { Suspense } from 'react';
import { SessionRoute } from '@/components/session/session-route';

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <SessionRoute />
    </Suspense>
  );
}
