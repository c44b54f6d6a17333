'use client';

import type { OrgRole } from '@yoke/protocol';
import { useEffect, useState } from 'react';
import { fetchMyRole } from '@/components/audit/audit-api';
import { useToken } from '@/hooks/use-token';

export type MyRole = { role: OrgRole; memberRole: OrgRole | null };

/** The caller's role in the org (`GET /me`), read again when the stored token changes; null until known or signed out. */
export function useMyRole(): MyRole | null {
  const token = useToken();
  const [me, setMe] = useState<MyRole | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    fetchMyRole(ctrl.signal).then(
      (r) => setMe(r),
      () => !ctrl.signal.aborted && setMe(null),
    );
    return () => ctrl.abort();
  }, [token]);
  return me;
}
