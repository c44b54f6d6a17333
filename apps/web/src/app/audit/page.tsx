import { Suspense } from 'react';
import { AuditPage } from '@/components/audit/audit-page';
import './audit.css';

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <AuditPage />
    </Suspense>
  );
}
