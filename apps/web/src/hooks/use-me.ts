'use client';

import { MeView, OrgView } from '@yoke/protocol';
import { useEffect, useState } from 'react';
import { request } from '@/lib/api';
import { useToken } from '@/hooks/use-token';

export type WhoAmI = { me: MeView; org: OrgView | null };

/** The caller and their org (`GET /me`, `GET /org`), read again when the stored token changes; null until known. */
export function useMe(): WhoAmI | null {
  const token = useToken();
  const [who, setWho] = useState<WhoAmI | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    const load = async (): Promise<WhoAmI> => {
      const me = MeView.parse(stripExtra(await request('/me', { signal: ctrl.signal })));
      const org = OrgView.safeParse(await request('/org', { signal: ctrl.signal }).catch(() => null));
      return { me, org: org.success ? org.data : null };
    };
    load().then(
      (w) => setWho(w),
      () => !ctrl.signal.aborted && setWho(null),
    );
    return () => ctrl.abort();
  }, [token]);
  return who;
}

/** `/me` also carries token details (a read-only token's member role, a guest's scope) that this view does not use. */
function stripExtra(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const { memberRole: _m, scope: _s, ...rest } = body as Record<string, unknown>;
  return rest;
}
