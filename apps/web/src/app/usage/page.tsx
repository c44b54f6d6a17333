import { Suspense } from 'react';
import { UsagePage } from '@/components/usage/usage-page';
import './usage.css';

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <UsagePage />
    </Suspense>
  );
}
