'use client';

import type { AuditEvent, Session } from '@yoke/protocol';
import { useEffect, useRef, useState } from 'react';
import { fetchAuditEvents, fetchChildSessions } from '@/components/audit/audit-api';
import { EMPTY_FILTER, isGovernance, mergeRows, rowOf, rowOfLive, type AuditRow } from '@/components/audit/audit-log';
import { useAuditAppended, type AuditWatch } from '@/hooks/use-audit-watch';
import { ApiError, describeError } from '@/lib/api';
import { getSession } from '@/lib/collab-api';

/** A session of the tree: its record when the caller may read it (else only its id and what events say). */
export type TreeSession = {
  id: string;
  depth: number;
  parentId: string | null;
  session: Session | null;
  title: string;
};

export type GovernanceState = {
  /** Root first, then each session's children under it (depth-first). */
  sessions: TreeSession[];
  /** The tree's governance events, ascending by seq (reads of the audit log itself left out). */
  rows: AuditRow[];
  isLoading: boolean;
  error: string | null;
  /** Why the tree may be incomplete (a session that could not be read, a cap reached). */
  notes: string[];
};

const MAX_SESSIONS = 100;
const MAX_DEPTH = 20;
const EVENTS_PAGE = 500;
const MAX_EVENTS_PER_SESSION = 5_000;

type Loaded = {
  sessions: TreeSession[];
  rows: AuditRow[];
  notes: string[];
  /** Per session, the seq its events were read to. */
  readTo: ReadonlyMap<string, number>;
};

function titleOf(s: Session | null, id: string): string {
  return s?.title.trim() || `session ${id.slice(0, 8)}`;
}

/**
 * A session's governance events after `after`, every page up to a cap, and the seq the log was read to (live rows
 * may run past it with holes, so a later catch-up reads after this seq, not after the last row held).
 */
async function sessionEvents(
  sessionId: string,
  after: number,
  signal: AbortSignal,
): Promise<{ rows: AuditRow[]; readTo: number }> {
  const rows: AuditRow[] = [];
  let readTo = after;
  let cursor: number | null = after;
  while (cursor !== null && rows.length < MAX_EVENTS_PER_SESSION) {
    const page = await fetchAuditEvents({ ...EMPTY_FILTER, sessionId }, cursor, EVENTS_PAGE, signal);
    rows.push(...page.events.filter((v) => isGovernance(v.event)).map(rowOf));
    readTo = Math.max(readTo, ...page.events.map((v) => v.event.seq));
    cursor = page.nextAfter;
  }
  return { rows, readTo };
}

/** The tree around `sessionId`: up through its parents to the root, then down through every delegated child. */
async function loadTree(sessionId: string, signal: AbortSignal): Promise<Loaded> {
  const notes: string[] = [];
  const chain: Session[] = [];
  let id: string | null = sessionId;
  while (id && chain.length < MAX_DEPTH) {
    const current: string = id;
    try {
      const s: Session = await getSession(current);
      chain.push(s);
      id = s.parentId;
    } catch (err) {
      if (signal.aborted) throw err;
      if (chain.length === 0) {
        const why = err instanceof ApiError && err.status === 404 ? 'it no longer exists or' : 'it';
        notes.push(
          `The session's record could not be read (${describeError(err)}): ${why} may have been removed; its own audit events are shown, without delegated sessions.`,
        );
        const only = await sessionEvents(sessionId, 0, signal);
        const tree: TreeSession = {
          id: sessionId,
          depth: 0,
          parentId: null,
          session: null,
          title: titleOf(null, sessionId),
        };
        return { sessions: [tree], rows: only.rows, notes, readTo: new Map([[sessionId, only.readTo]]) };
      }
      notes.push(`The parent session ${current.slice(0, 8)} could not be read; the tree starts below it.`);
      break;
    }
  }
  const root = chain[chain.length - 1];
  const sessions: TreeSession[] = [];
  const visit = async (s: Session, depth: number, parentId: string | null) => {
    sessions.push({ id: s.id, depth, parentId, session: s, title: titleOf(s, s.id) });
    if (sessions.length >= MAX_SESSIONS || depth >= MAX_DEPTH) return;
    for (const child of await fetchChildSessions(s.id, signal)) {
      if (sessions.length >= MAX_SESSIONS) {
        notes.push(`Only the first ${MAX_SESSIONS} sessions of this tree are shown.`);
        return;
      }
      await visit(child, depth + 1, s.id);
    }
  };
  await visit(root, 0, null);
  let rows: AuditRow[] = [];
  const readTo = new Map<string, number>();
  for (const s of sessions) {
    const read = await sessionEvents(s.id, 0, signal);
    rows = mergeRows(rows, read.rows);
    readTo.set(s.id, read.readTo);
  }
  return { sessions, rows, notes, readTo };
}

/** Live events into a loaded tree: a delegated child's `session.created` adds it under its parent. */
function withLive<S extends Loaded>(s: S, events: readonly AuditEvent[]): S {
  const ids = new Set(s.sessions.map((t) => t.id));
  let sessions = s.sessions;
  for (const e of events) {
    const parentId = e.action === 'session.created' ? e.details.parentId : null;
    if (!e.sessionId || ids.has(e.sessionId) || typeof parentId !== 'string' || !ids.has(parentId)) continue;
    const at = sessions.findIndex((t) => t.id === parentId);
    const depth = sessions[at].depth;
    let end = at + 1;
    while (end < sessions.length && sessions[end].depth > depth) end += 1;
    const title = e.target.name?.trim() || titleOf(null, e.sessionId);
    const child: TreeSession = { id: e.sessionId, depth: depth + 1, parentId, session: null, title };
    sessions = [...sessions.slice(0, end), child, ...sessions.slice(end)];
    ids.add(e.sessionId);
  }
  const fresh = events.filter((e) => e.sessionId && ids.has(e.sessionId) && isGovernance(e)).map(rowOfLive);
  if (fresh.length === 0 && sessions === s.sessions) return s;
  return { ...s, sessions, rows: mergeRows(s.rows, fresh) };
}

/**
 * The governance timeline of the session tree around one session: its policy decisions, denials, asks, approvals
 * (who, when, how long they waited), prompts, tool calls and spend, for the root and every delegated child, in log
 * order. Live events of the tree append (by seq, each once); a new delegated child joins the tree when its
 * `session.created` arrives; after each (re)watch every session is read again after the seq it was read to.
 */
export function useSessionGovernance(sessionId: string, watch: AuditWatch): GovernanceState {
  const [state, setState] = useState<GovernanceState & { id: string; readTo: ReadonlyMap<string, number> }>({
    id: sessionId,
    sessions: [],
    rows: [],
    isLoading: true,
    error: null,
    notes: [],
    readTo: new Map(),
  });
  const stateRef = useRef(state);
  const needsCatchUp = useRef(false);
  const busy = useRef(false);
  /** Live events that arrived while the tree was loading: merged in once it is known. */
  const pending = useRef<AuditEvent[]>([]);

  useEffect(() => {
    stateRef.current = state;
  });

  useEffect(() => {
    const ctrl = new AbortController();
    needsCatchUp.current = false;
    busy.current = true;
    pending.current = [];
    setState({ id: sessionId, sessions: [], rows: [], isLoading: true, error: null, notes: [], readTo: new Map() });
    loadTree(sessionId, ctrl.signal).then(
      (loaded) => {
        if (ctrl.signal.aborted) return;
        busy.current = false;
        const early = pending.current;
        pending.current = [];
        setState((s) => withLive({ ...s, ...loaded, isLoading: false }, early));
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        busy.current = false;
        setState((s) => ({ ...s, isLoading: false, error: describeError(err) }));
      },
    );
    return () => ctrl.abort();
  }, [sessionId]);

  const epoch = watch.status === 'watching' ? watch.epoch : 0;
  useEffect(() => {
    if (epoch > 0) needsCatchUp.current = true;
  }, [epoch]);

  // Once loaded and idle: read each session of the tree again after the seq it was read to.
  useEffect(() => {
    const s = stateRef.current;
    if (!needsCatchUp.current || busy.current || s.isLoading || s.id !== sessionId || s.sessions.length === 0) return;
    needsCatchUp.current = false;
    busy.current = true;
    const ctrl = new AbortController();
    void (async () => {
      try {
        let rows: AuditRow[] = [];
        const readTo = new Map(s.readTo);
        for (const t of s.sessions) {
          const read = await sessionEvents(t.id, s.readTo.get(t.id) ?? 0, ctrl.signal);
          rows = mergeRows(rows, read.rows);
          readTo.set(t.id, read.readTo);
        }
        setState((prev) => (prev.id === s.id ? { ...prev, rows: mergeRows(prev.rows, rows), readTo } : prev));
      } catch (err) {
        setState((prev) => (prev.id === s.id ? { ...prev, error: describeError(err) } : prev));
      } finally {
        busy.current = false;
      }
    })();
  });

  // Session records (status, spend) are read again shortly after live events of the tree, once per burst.
  const stale = useRef(new Set<string>());
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    const timer = refreshTimer;
    const ids = stale.current;
    return () => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
      ids.clear();
    };
  }, [sessionId]);
  const refreshRecords = () => {
    refreshTimer.current = null;
    const ids = [...stale.current];
    stale.current.clear();
    for (const id of ids) {
      getSession(id).then(
        (record) =>
          setState((prev) => ({
            ...prev,
            sessions: prev.sessions.map((t) =>
              t.id === id ? { ...t, session: record, title: titleOf(record, id) } : t,
            ),
          })),
        () => undefined,
      );
    }
  };

  useAuditAppended((events) => {
    const known = stateRef.current;
    if (known.isLoading || known.id !== sessionId) pending.current = [...pending.current, ...events].slice(-2_000);
    setState((s) => (s.id !== sessionId || s.isLoading ? s : withLive(s, events)));
    const tree = new Set(known.sessions.map((t) => t.id));
    for (const e of events) if (e.sessionId && tree.has(e.sessionId)) stale.current.add(e.sessionId);
    if (stale.current.size > 0 && !refreshTimer.current) refreshTimer.current = setTimeout(refreshRecords, 1_500);
  });

  const current = state.id === sessionId ? state : { ...state, sessions: [], rows: [], isLoading: true, notes: [] };
  return {
    sessions: current.sessions,
    rows: current.rows,
    isLoading: current.isLoading,
    error: current.error,
    notes: current.notes,
  };
}
