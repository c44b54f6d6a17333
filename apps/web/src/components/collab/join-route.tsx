'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useToken } from '@/hooks/use-token';
import { describeError } from '@/lib/api';
import { redeemLink, redeemLinkAsGuest } from '@/lib/collab-api';
import { writeToken } from '@/lib/token';

/**
 * `/join/?token=…`: opens a share link. Signed in (an API token is stored), the link gives this person its role in
 * the session; otherwise they join as a named guest with a credential for that one session.
 */
export function JoinRoute() {
  const linkToken = useSearchParams().get('token')?.trim() ?? '';
  const token = useToken();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [guestName, setGuestName] = useState('');
  const [isHydrated, setIsHydrated] = useState(false);
  const started = useRef(false);

  useEffect(() => setIsHydrated(true), []);

  useEffect(() => {
    if (!isHydrated || !linkToken || !token || started.current) return;
    started.current = true;
    redeemLink(linkToken)
      .then((r) => router.replace(`/session/?id=${r.sessionId}`))
      .catch((err: unknown) => setError(describeError(err)));
  }, [isHydrated, linkToken, token, router]);

  const joinAsGuest = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await redeemLinkAsGuest(linkToken, guestName.trim());
      if (r.credential) writeToken(r.credential);
      router.replace(`/session/?id=${r.sessionId}`);
    } catch (err) {
      setError(describeError(err));
    }
  };

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
      {isHydrated && !token && !error && (
        <form className="form-row" onSubmit={(e) => void joinAsGuest(e)}>
          <label className="field grow">
            <span>Your name</span>
            <input value={guestName} onChange={(e) => setGuestName(e.target.value)} required maxLength={100} />
          </label>
          <button type="submit" disabled={!guestName.trim()}>
            Join as guest
          </button>
        </form>
      )}
      {token && !error && <p className="muted">Opening the session…</p>}
    </div>
  );
}
