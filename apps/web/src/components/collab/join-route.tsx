'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { useToken } from '@/hooks/use-token';
import { ApiError, describeError } from '@/lib/api';
import { redeemLink } from '@/lib/collab-api';

/**
 * `/join/?token=…`: opens a share link. Signed in (an API token is stored), the link gives this person its role in
 * the session and the live view opens. Without an account nothing is redeemed (the server does not accept link-guest
 * credentials yet), so the link's uses are not spent.
 */
export function JoinRoute() {
  const linkToken = useSearchParams().get('token')?.trim() ?? '';
  const token = useToken();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [isHydrated, setIsHydrated] = useState(false);
  const [needsSignIn, setNeedsSignIn] = useState(false);
  const started = useRef(false);

  useEffect(() => setIsHydrated(true), []);

  useEffect(() => {
    if (!isHydrated || !linkToken || started.current) return;
    started.current = true;
    redeemLink(linkToken)
      .then((r) => router.replace(`/session/?id=${r.sessionId}`))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) setNeedsSignIn(true);
        else setError(describeError(err));
      });
  }, [isHydrated, linkToken, token, router]);

  if (!linkToken) {
    return (
      <div className="page">
        <p className="banner banner-error" role="alert">
          This share link is incomplete. <Link href="/">Back to sessions</Link>
        </p>
      </div>
    );
  }
  return (
    <div className="page" data-testid="join-page">
      <h1>Open a shared session</h1>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="join-link-error">
          {error}
        </p>
      )}
      {needsSignIn && (
        <p className="banner" data-testid="join-sign-in">
          Sign in to open this shared session: set your API token on the <Link href="/">sessions page</Link>, then open
          the link again.
        </p>
      )}
      {!error && !needsSignIn && <p className="muted">Opening the session…</p>}
    </div>
  );
}
