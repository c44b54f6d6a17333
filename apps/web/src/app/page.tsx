import { SessionListPage } from '@/components/session-list/session-list-page';

export default function Page() {
  return <SessionListPage />;
}
