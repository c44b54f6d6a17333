import type { Metadata } from 'next';
import { Suspense } from 'react';
import { AdminPage } from '@/components/admin/admin-page';

export const metadata: Metadata = { title: 'Admin' };

export default function Page() {
  return (
    <Suspense fallback={<p className="page muted">Loading…</p>}>
      <AdminPage />
    </Suspense>
  );
}
