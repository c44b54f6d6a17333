'use client';

import type { AuditEventsPage } from '@yoke/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchAuditEvents } from '@/components/audit/audit-api';
import {
  filterSearch,
  isFiltered,
  matchesFilter,
  mergeRows,
  rowOf,
  rowOfLive,
  type AuditFilter,
  type AuditRow,
} from '@/components/audit/audit-log';
import { useAuditAppended, type AuditWatch } from '@/hooks/use-audit-watch';
import { describeError } from '@/lib/api';

export const AUDIT_PAGE = 100;
/** Live events kept aside while a page is in flight, to fill what the page could not see. */
const LIVE_BUFFER = 2_000;

type Busy = 'initial' | 'more' | 'earlier' | 'catch-up';

type LogState = {
  key: string;
  rows: AuditRow[];
  /** The window starts after this seq (the latest page of an unfiltered log starts near its end). */
  start: number;
  /** The next page starts after this seq; null once the pages reached the end of the log (then live events append). */
  cursor: number | null;
  /**
   * Pages have read the log up to this seq. Live rows may run past it with holes (an event appended before the watch
   * joined its room never arrives live), so catching up reads after this seq, never after the last row.
   */
  readTo: number;
  isLoaded: boolean;
  busy: Busy | null;
  error: string | null;
  /** Live events past the loaded pages: they come with "Load more", not out of order. */
  newer: number;
};

export type AuditLogState = {
  rows: AuditRow[];
  isLoaded: boolean;
  busy: Busy | null;
  error: string | null;
  hasMore: boolean;
  hasEarlier: boolean;
  newer: number;
  loadMore: () => void;
  loadEarlier: () => void;
  /** Reads the list again from its first page (after a failed first read). */
  reload: () => void;
};

const blank = (key: string, start: number): LogState => ({
  key,
  rows: [],
  start,
  cursor: start,
  readTo: start,
  isLoaded: false,
  busy: 'initial',
  error: null,
  newer: 0,
});

/**
 * The audit timeline, ascending by seq (the log's own order; the newest event is last). Unfiltered, it opens on the
 * latest page (seqs are gap-free, so "Load earlier" can page back); filtered, it starts at the beginning of the
 * range and "Load more" pages forward. Once the pages reach the end, live `audit.appended` events that match the
 * filter append; every copy of an event merges by seq, so a live event and a page never show it twice. After each
 * (re)watch the log is read again after the last seq its pages read, so nothing appended while disconnected is lost.
 */
export function useAuditLog(filter: AuditFilter, tailSize: number, watch: AuditWatch): AuditLogState {
  const key = filterSearch(filter);
  const [state, setState] = useState<LogState>(() => blank(key, 0));
  const filterRef = useRef(filter);
  const keyRef = useRef(key);
  const stateRef = useRef(state);
  const tailRef = useRef(tailSize);
  const live = useRef<AuditRow[]>([]);
  const inFlight = useRef<AbortController | null>(null);
  /** Set when the log must be read again after its last seq (watched again), done once idle at the end. */
  const needsCatchUp = useRef(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    stateRef.current = state;
    tailRef.current = tailSize;
  });

  const run = useCallback(
    (kind: Busy, after: number, limit: number, apply: (s: LogState, page: AuditEventsPage) => LogState) => {
      const runKey = keyRef.current;
      const ctrl = new AbortController();
      inFlight.current = ctrl;
      setState((s) => (s.key === runKey ? { ...s, busy: kind, error: null } : s));
      fetchAuditEvents(filterRef.current, after, limit, ctrl.signal).then(
        (page) => {
          if (keyRef.current !== runKey) return;
          inFlight.current = null;
          setState((s) => {
            if (s.key !== runKey) return s;
            const next = apply(s, page);
            if (next.cursor !== null) return next;
            // At the end of the log: the live events this page may have missed (same seqs merge) join it.
            const fresh = live.current.filter((r) => r.event.seq > next.start);
            return { ...next, rows: mergeRows(next.rows, fresh), newer: 0 };
          });
        },
        (err: unknown) => {
          if (keyRef.current !== runKey || ctrl.signal.aborted) return;
          inFlight.current = null;
          setState((s) => (s.key === runKey ? { ...s, busy: null, error: describeError(err) } : s));
        },
      );
    },
    [],
  );

  const forward = useCallback(
    (s: LogState, page: AuditEventsPage): LogState => ({
      ...s,
      rows: mergeRows(s.rows, page.events.map(rowOf)),
      cursor: page.nextAfter,
      readTo: Math.max(s.readTo, ...page.events.map((v) => v.event.seq)),
      isLoaded: true,
      busy: null,
    }),
    [],
  );

  // A new filter: a new list from its first page (or the log's latest page when nothing is filtered).
  useEffect(() => {
    inFlight.current?.abort();
    inFlight.current = null;
    keyRef.current = key;
    filterRef.current = filter;
    live.current = [];
    needsCatchUp.current = false;
    const start = isFiltered(filter) ? 0 : Math.max(0, tailRef.current - AUDIT_PAGE);
    setState(blank(key, start));
    run('initial', start, AUDIT_PAGE, (s, page) => ({ ...forward(s, page), rows: page.events.map(rowOf) }));
    return () => inFlight.current?.abort();
    // The filter is read through `key` (its canonical form): a new object with the same values is no new list.
  }, [key, attempt, run, forward]);

  const epoch = watch.status === 'watching' ? watch.epoch : 0;
  useEffect(() => {
    if (epoch === 0) return;
    needsCatchUp.current = true;
  }, [epoch]);

  // Catch up once the list is idle at the end of the log (runs after every render, after the effects above).
  useEffect(() => {
    const s = stateRef.current;
    if (!needsCatchUp.current || !s.isLoaded || s.cursor !== null || inFlight.current || s.key !== keyRef.current) {
      return;
    }
    needsCatchUp.current = false;
    run('catch-up', s.readTo, AUDIT_PAGE, forward);
  });

  useAuditAppended((events) => {
    const f = filterRef.current;
    const rows = events.filter((e) => matchesFilter(e, f)).map(rowOfLive);
    if (rows.length === 0) return;
    live.current = [...live.current, ...rows].slice(-LIVE_BUFFER);
    setState((s) => {
      if (s.key !== keyRef.current || !s.isLoaded) return s;
      const fresh = rows.filter((r) => r.event.seq > s.start);
      if (s.cursor === null) return { ...s, rows: mergeRows(s.rows, fresh) };
      const known = new Set(s.rows.map((r) => r.event.seq));
      return { ...s, newer: s.newer + fresh.filter((r) => !known.has(r.event.seq)).length };
    });
  });

  const loadMore = useCallback(() => {
    const s = stateRef.current;
    if (s.cursor === null || inFlight.current) return;
    run('more', s.cursor, AUDIT_PAGE, forward);
  }, [run, forward]);

  const loadEarlier = useCallback(() => {
    const s = stateRef.current;
    if (s.start <= 0 || inFlight.current) return;
    const after = Math.max(0, s.start - AUDIT_PAGE);
    run('earlier', after, s.start - after, (prev, page) => ({
      ...prev,
      rows: mergeRows(prev.rows, page.events.map(rowOf)),
      start: after,
      busy: null,
    }));
  }, [run]);

  const current = state.key === key ? state : blank(key, 0);
  return {
    rows: current.rows,
    isLoaded: current.isLoaded,
    busy: current.busy,
    error: current.error,
    hasMore: current.isLoaded && current.cursor !== null,
    hasEarlier: current.isLoaded && current.start > 0,
    newer: current.newer,
    loadMore,
    loadEarlier,
    reload: () => setAttempt((n) => n + 1),
  };
}
