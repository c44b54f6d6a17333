import Link from 'next/link';
import { ConnectionBadge } from '@/components/connection-badge';

export function AppHeader() {
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        Yoke
      </Link>
      <ConnectionBadge />
    </header>
  );
}
