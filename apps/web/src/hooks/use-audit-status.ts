'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchAuditStatus, type AuditStatus } from '@/components/audit/audit-api';
import { useToken } from '@/hooks/use-token';
import { ApiError, describeError } from '@/lib/api';

export type AuditAccess =
  | { kind: 'loading' }
  | { kind: 'ok'; status: AuditStatus }
  | { kind: 'forbidden' }
  | { kind: 'signed-out' }
  | { kind: 'error'; message: string };

/** How often the integrity summary is read again while the page is open (each read may sign a checkpoint). */
const REFRESH_MS = 60_000;

/**
 * The log's size and latest signed checkpoint (`GET /audit/status`, not itself audited), which also tells whether
 * the caller may read the log at all: a member gets `auth.forbidden`.
 */
export function useAuditStatus(): { access: AuditAccess; refresh: () => void; isRefreshing: boolean } {
  const token = useToken();
  const [access, setAccess] = useState<AuditAccess>({ kind: 'loading' });
  const [isRefreshing, setIsRefreshing] = useState(false);
  const ctrl = useRef<AbortController | null>(null);

  const load = useCallback(() => {
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    setIsRefreshing(true);
    fetchAuditStatus(c.signal).then(
      (status) => {
        setAccess({ kind: 'ok', status });
        setIsRefreshing(false);
      },
      (err: unknown) => {
        if (c.signal.aborted) return;
        setIsRefreshing(false);
        if (err instanceof ApiError && err.code === 'auth.forbidden') setAccess({ kind: 'forbidden' });
        else if (err instanceof ApiError && err.status === 401) setAccess({ kind: 'signed-out' });
        // A failed refresh keeps what was shown; only a first read that fails is an error state.
        else setAccess((a) => (a.kind === 'ok' ? a : { kind: 'error', message: describeError(err) }));
      },
    );
  }, []);

  useEffect(() => {
    setAccess({ kind: 'loading' });
    load();
    return () => ctrl.current?.abort();
  }, [token, load]);

  const isOk = access.kind === 'ok';
  useEffect(() => {
    if (!isOk) return;
    const id = setInterval(load, REFRESH_MS);
    return () => clearInterval(id);
  }, [isOk, load]);

  return { access, refresh: load, isRefreshing };
}
