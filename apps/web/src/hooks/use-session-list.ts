'use client';

import type { Session } from '@yoke/protocol';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSocket } from '@/components/socket-provider';
import { useToken } from '@/hooks/use-token';
import { describeError, listSessions, type SessionQuery } from '@/lib/api';
import { filterSessions, mergeSessions, type SessionFilter } from '@/lib/session-list';
import { ACK_TIMEOUT_MS } from '@/lib/socket';
import { isAckOk, parseErrorBody, parseSession } from '@/lib/wire';

export type SessionListState = {
  sessions: Session[];
  total: number;
  isLoading: boolean;
  error: string | null;
  hasMore: boolean;
  loadMore: () => void;
};

/** How long the search box rests before the server is asked for the sessions that match. */
const SEARCH_SETTLE_MS = 250;

/**
 * The session list: one REST page, then live `session.updated` events from `sessions.watch` (no polling).
 * After every (re)connect the watch is renewed and the first page fetched again, so nothing missed while
 * disconnected is lost; copies merge by `updatedAt`, newest wins.
 */
export function useSessionList(filter: SessionFilter): SessionListState {
  const search = useSettled(filter.search.trim(), SEARCH_SETTLE_MS);
  const { socket } = useSocket();
  const token = useToken();
  const [sessions, setSessions] = useState<Session[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [isLoading, setIsLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [watchEpoch, setWatchEpoch] = useState(0);
  const listKey = useRef<string | null>(null);

  const status = filter.status === 'all' ? undefined : filter.status;
  const includeArchived = filter.showArchived || filter.status === 'archived';
  // A search asks the server (every session of the org, not only the pages loaded); the loaded list is also filtered
  // at once as the user types, and live updates are filtered the same way.
  const query = useMemo<SessionQuery>(
    () => ({ status, includeArchived, ...(search ? { q: search } : {}) }),
    [status, includeArchived, search],
  );
  const key = `${status ?? 'all'}|${includeArchived}|${search}|${token ?? ''}`;

  useEffect(() => {
    const ctrl = new AbortController();
    setIsLoading(true);
    listSessions(query, ctrl.signal).then(
      (page) => {
        const isNewList = listKey.current !== key;
        listKey.current = key;
        setSessions((prev) => mergeSessions(isNewList ? [] : prev, page.sessions));
        if (isNewList) setCursor(page.nextCursor);
        setError(null);
        setIsLoading(false);
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(describeError(err));
        setIsLoading(false);
      },
    );
    return () => ctrl.abort();
  }, [key, query, watchEpoch]);

  useEffect(() => {
    if (!socket) return;
    const onUpdated = (raw: unknown) => {
      const session = parseSession(raw);
      if (session) setSessions((prev) => mergeSessions(prev, [session]));
    };
    const watch = () => {
      socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('sessions.watch', {})
        .then(
          (reply: unknown) => {
            const error = parseErrorBody(reply);
            if (isAckOk(reply)) setWatchEpoch((n) => n + 1);
            else setError(`Live updates unavailable: ${error?.message ?? 'the server refused to watch sessions.'}`);
          },
          () => setError('Live updates unavailable: the server did not answer.'),
        );
    };
    socket.on('session.updated', onUpdated);
    socket.on('connect', watch);
    if (socket.connected) watch();
    return () => {
      socket.off('session.updated', onUpdated);
      socket.off('connect', watch);
    };
  }, [socket]);

  const loadMore = useCallback(() => {
    if (!cursor) return;
    setIsLoading(true);
    listSessions({ ...query, cursor }).then(
      (page) => {
        setSessions((prev) => mergeSessions(prev, page.sessions));
        setCursor(page.nextCursor);
        setIsLoading(false);
      },
      (err: unknown) => {
        setError(describeError(err));
        setIsLoading(false);
      },
    );
  }, [cursor, query]);

  const visible = useMemo(() => filterSessions(sessions, filter), [sessions, filter]);
  return { sessions: visible, total: sessions.length, isLoading, error, hasMore: cursor !== null, loadMore };
}

/** `value`, once it has stayed the same for `ms`. */
function useSettled(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
