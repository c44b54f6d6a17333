'use client';

import type { Approval } from '@yoke/protocol';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useSocket } from '@/components/socket-provider';
import { useToken } from '@/hooks/use-token';
import { ApiError, describeError } from '@/lib/api';
import { listApprovals } from '@/lib/collab-api';

/** A burst of session and approval events (a turn asking twice, a fan of sessions) reads the list once. */
const RELOAD_AFTER_MS = 250;

/** A page's live tab title (`useDocumentTitle`), already ending in ` · Yoke`. */
export type LiveTitle = { text: string; hasCount: boolean };

type PendingApprovalsValue = {
  /** The pending approvals the caller may see; null before the first answer, or when the caller may not list them. */
  approvals: Approval[] | null;
  /** Why the list could not be read (the inbox shows it; the nav stays quiet). */
  error: string | null;
  /** Reads the list again now (after a decision made here). */
  reload: () => Promise<void>;
};

const PendingApprovalsContext = createContext<PendingApprovalsValue>({
  approvals: null,
  error: null,
  reload: () => Promise.resolve(),
});
const LiveTitleContext = createContext<(title: LiveTitle | null) => void>(() => undefined);

/**
 * The pending approvals, read once for the whole app: the nav's badge, every tab title's `(2) ` and the approvals
 * inbox share this list. Kept live without polling: a session's status changes (to or from waiting for approval)
 * arrive by `sessions.watch`, decisions by `approval.updated`, and the list is read again then. A caller who may not
 * list approvals (a link guest, someone not signed in) gets nothing and no error on the page.
 *
 * It also writes the tab title, the one writer of it: a page's live title (`useDocumentTitle`) or else the static one
 * Next writes, led by the count when approvals wait.
 */
export function PendingApprovalsProvider({ children }: { children: ReactNode }) {
  const token = useToken();
  const { socket } = useSocket();
  const [approvals, setApprovals] = useState<Approval[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [liveTitle, setLiveTitle] = useState<LiveTitle | null>(null);
  /** Answers arrive out of order after a burst: only the latest read's counts. */
  const readNo = useRef(0);
  /** The server refused the list (401 / 403): events do not ask again until the credential changes. */
  const isRefused = useRef(false);

  const reload = useCallback(async () => {
    const no = ++readNo.current;
    try {
      const list = await listApprovals();
      if (no !== readNo.current) return;
      isRefused.current = false;
      setApprovals(list);
      setError(null);
    } catch (err) {
      if (no !== readNo.current) return;
      isRefused.current = err instanceof ApiError && (err.status === 401 || err.status === 403);
      setApprovals(null);
      setError(describeError(err));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload, token]);

  useEffect(() => {
    if (!socket) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const later = () => {
      if (isRefused.current) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), RELOAD_AFTER_MS);
    };
    // Events may have been missed while disconnected: a reconnection watches again and reads the list again (the
    // first read is the credential's, above).
    let isFirstWatch = true;
    const watch = () => {
      void socket
        .timeout(15_000)
        .emitWithAck('sessions.watch', {})
        .catch(() => undefined);
      if (!isFirstWatch) later();
      isFirstWatch = false;
    };
    socket.on('connect', watch);
    socket.on('session.updated', later);
    socket.on('approval.updated', later);
    if (socket.connected) watch();
    return () => {
      clearTimeout(timer);
      socket.off('connect', watch);
      socket.off('session.updated', later);
      socket.off('approval.updated', later);
    };
  }, [socket, reload]);

  const count = approvals?.length ?? 0;
  useEffect(() => {
    const prefix = count > 0 && !liveTitle?.hasCount ? `(${count}) ` : '';
    // Next may write the page's static title again after this one was set (its metadata lands late on a full load):
    // the title is put back whenever the document's title changes under it.
    const apply = () => {
      const wanted = prefix + (liveTitle ? liveTitle.text : withoutCount(document.title));
      if (document.title !== wanted) document.title = wanted;
    };
    const previous = withoutCount(document.title);
    apply();
    const observer = new MutationObserver(apply);
    observer.observe(document.head, { childList: true, subtree: true, characterData: true });
    return () => {
      observer.disconnect();
      // A live title gives way to the one before it when its page goes.
      if (liveTitle) document.title = previous;
    };
  }, [count, liveTitle]);

  const value = useMemo(() => ({ approvals, error, reload }), [approvals, error, reload]);
  return (
    <PendingApprovalsContext.Provider value={value}>
      <LiveTitleContext.Provider value={setLiveTitle}>{children}</LiveTitleContext.Provider>
    </PendingApprovalsContext.Provider>
  );
}

export function usePendingApprovals(): PendingApprovalsValue {
  return useContext(PendingApprovalsContext);
}

/** Sets (or, with null, gives up) the page's live tab title: see `useDocumentTitle`. */
export function useSetLiveTitle(): (title: LiveTitle | null) => void {
  return useContext(LiveTitleContext);
}

/** A title without the leading `(2) ` this provider put there. */
function withoutCount(title: string): string {
  return title.replace(/^\(\d+\) /, '');
}
