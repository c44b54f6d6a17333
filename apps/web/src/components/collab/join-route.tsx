'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useToken } from '@/hooks/use-token';
import { ApiError, describeError } from '@/lib/api';
import { redeemLink, redeemLinkAsGuest } from '@/lib/collab-api';
import { writeToken } from '@/lib/token';

/**
 * `/join/?token=…`: opens a share link. Signed in (an API token or a browser session), the link gives this person its
 * role in the session and the live view opens. Without an account they may go on as a guest under a name of their
 * choosing: the server gives a credential for that one session (kept like a token in this browser) while the link
 * lives. Nothing is redeemed until they choose, so merely opening the link spends none of its uses.
 */
export function JoinRoute() {
  const linkToken = useSearchParams().get('token')?.trim() ?? '';
  const token = useToken();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [isHydrated, setIsHydrated] = useState(false);
  const [needsSignIn, setNeedsSignIn] = useState(false);
  const [guestName, setGuestName] = useState('');
  const [isJoining, setIsJoining] = useState(false);
  const started = useRef(false);

  const joinAsGuest = (e: FormEvent) => {
    e.preventDefault();
    setIsJoining(true);
    setError(null);
    redeemLinkAsGuest(linkToken, guestName.trim())
      .then((r) => {
        if (r.credential) writeToken(r.credential);
        router.replace(`/session/?id=${r.sessionId}`);
      })
      .catch((err: unknown) => {
        setError(describeError(err));
        setIsJoining(false);
      });
  };

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
        <>
          <form className="field" onSubmit={joinAsGuest} data-testid="join-guest">
            <h2>Continue as a guest</h2>
            <p className="muted">
              You see this one session with the role the link gives, until its owner ends the link. Nothing else in the
              org is visible to you.
            </p>
            <label>
              Your name (shown to the others)
              <input
                value={guestName}
                onChange={(e) => setGuestName(e.target.value)}
                maxLength={100}
                placeholder="Guest"
                autoComplete="name"
                data-testid="join-guest-name"
              />
            </label>
            <button type="submit" disabled={isJoining} data-testid="join-guest-submit">
              {isJoining ? 'Opening…' : 'Open the session'}
            </button>
          </form>
          <p className="muted" data-testid="join-sign-in">
            Have an account? Sign in (or set your API token on the <Link href="/">sessions page</Link>), then open the
            link again.
          </p>
        </>
      )}
      {!error && !needsSignIn && <p className="muted">Opening the session…</p>}
    </div>
  );
}
