import type { Metadata } from 'next';
import { SessionListPage } from '@/components/session-list/session-list-page';

// The root segment is the layout's own: its title template does not apply here.
export const metadata: Metadata = { title: { absolute: 'Sessions · Yoke' } };

export default function Page() {
  return <SessionListPage />;
}
