'use client';

import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { SessionView } from '@/components/session/session-view';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `/session/?id=<uuid>`: a static export has no request-time route params, so the id is a query parameter. */
export function SessionRoute() {
  const id = useSearchParams().get('id')?.trim() ?? '';
  if (!UUID.test(id)) {
    return (
      <div className="page">
        <p className="banner banner-error" role="alert" data-testid="join-error">
          {id ? 'That is not a valid session id.' : 'No session selected.'} <Link href="/">Back to sessions</Link>
        </p>
      </div>
    );
  }
  const sessionId = id.toLowerCase();
  return <SessionView key={sessionId} sessionId={sessionId} />;
}
