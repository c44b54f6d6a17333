'use client';

import {
  AccessRevokedEvent,
  Approval,
  Comment,
  PresenceEvent,
  TypingEvent,
  type PresenceViewer,
  type SessionAccess,
} from '@yoke/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSocket } from '@/components/socket-provider';
import { ApiError, describeError } from '@/lib/api';
import { getAccess, listComments, listSessionApprovals } from '@/lib/collab-api';
import { upsert } from '@/lib/comments';

export type AccessState =
  | { state: 'loading' }
  | { state: 'ok'; access: SessionAccess }
  /** The person's access ended while the view was open (share revoked): the live view closes. */
  | { state: 'ended'; message: string }
  | { state: 'error'; message: string };

const TYPING_SHOWN_MS = 4_000;

/**
 * Everything collaborative about one open session: the caller's access (re-read when the server says it changed,
 * closed when it ended), who is watching, who is typing, comment threads and approvals, each kept live from the
 * `/web` socket. `onRejoin` runs when the role changed and the feed must join the room again.
 */
export function useCollab(sessionId: string, onRejoin: () => void) {
  const { socket } = useSocket();
  const [access, setAccess] = useState<AccessState>({ state: 'loading' });
  const [viewers, setViewers] = useState<PresenceViewer[]>([]);
  const [typing, setTyping] = useState<Record<string, { name: string; at: number }>>({});
  const [comments, setComments] = useState<Comment[]>([]);
  const [approvals, setApprovals] = useState<Approval[]>([]);
  const endedRef = useRef(false);
  const rejoinRef = useRef(onRejoin);
  rejoinRef.current = onRejoin;

  const recheck = useCallback(
    async (message: string | null) => {
      try {
        const next = await getAccess(sessionId);
        if (endedRef.current) return;
        setAccess({ state: 'ok', access: next });
        if (message !== null) rejoinRef.current();
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 403 || err.status === 401)) {
          endedRef.current = message !== null;
          setAccess(
            message !== null
              ? { state: 'ended', message }
              : { state: 'error', message: 'This session does not exist or is not visible to you.' },
          );
        } else {
          setAccess({ state: 'error', message: describeError(err) });
        }
      }
    },
    [sessionId],
  );

  const loadLists = useCallback(async () => {
    const [c, a] = await Promise.allSettled([listComments(sessionId), listSessionApprovals(sessionId)]);
    if (c.status === 'fulfilled') setComments(c.value);
    if (a.status === 'fulfilled') setApprovals(a.value);
  }, [sessionId]);

  useEffect(() => {
    void recheck(null);
    void loadLists();
  }, [recheck, loadLists]);

  useEffect(() => {
    if (!socket) return;
    const onRevoked = (raw: unknown) => {
      const e = AccessRevokedEvent.safeParse(raw);
      if (e.success && e.data.sessionId === sessionId) void recheck(e.data.message);
    };
    const onDisconnect = (reason: string) => {
      // The server closed this connection: a revoked share does that. Whether this view survives is the REST answer;
      // the connection itself comes back either way (other pages of the app use it too).
      if (reason === 'io server disconnect') {
        void recheck('Your access to this session was revoked.').then(() => socket.connect());
      }
    };
    const onConnect = () => {
      if (!endedRef.current) void loadLists();
    };
    const onPresence = (raw: unknown) => {
      const e = PresenceEvent.safeParse(raw);
      if (e.success && e.data.sessionId === sessionId) setViewers(e.data.viewers);
    };
    const onTyping = (raw: unknown) => {
      const e = TypingEvent.safeParse(raw);
      if (e.success && e.data.sessionId === sessionId) {
        setTyping((t) => ({ ...t, [e.data.actor.id]: { name: e.data.actor.name, at: Date.now() } }));
      }
    };
    const onComment = (raw: unknown) => {
      const e = Comment.safeParse(raw);
      if (e.success && e.data.sessionId === sessionId)
        setComments((list) => upsert(list, e.data, (x) => x.id === e.data.id));
    };
    const onApproval = (raw: unknown) => {
      const e = Approval.safeParse(raw);
      if (e.success && e.data.sessionId === sessionId) {
        setApprovals((list) => upsert(list, e.data, (x) => x.approvalId === e.data.approvalId));
      }
    };
    socket.on('access.revoked', onRevoked);
    socket.on('disconnect', onDisconnect);
    socket.on('connect', onConnect);
    socket.on('presence.updated', onPresence);
    socket.on('presence.typing', onTyping);
    socket.on('comment.updated', onComment);
    socket.on('approval.updated', onApproval);
    return () => {
      socket.off('access.revoked', onRevoked);
      socket.off('disconnect', onDisconnect);
      socket.off('connect', onConnect);
      socket.off('presence.updated', onPresence);
      socket.off('presence.typing', onTyping);
      socket.off('comment.updated', onComment);
      socket.off('approval.updated', onApproval);
    };
  }, [socket, sessionId, recheck, loadLists]);

  // Typing indicators fade after a few seconds without news.
  useEffect(() => {
    if (Object.keys(typing).length === 0) return;
    const t = setTimeout(() => {
      const now = Date.now();
      setTyping((cur) => Object.fromEntries(Object.entries(cur).filter(([, v]) => now - v.at < TYPING_SHOWN_MS)));
    }, TYPING_SHOWN_MS);
    return () => clearTimeout(t);
  }, [typing]);

  const lastTyped = useRef(0);
  const notifyTyping = useCallback(() => {
    if (!socket?.connected || Date.now() - lastTyped.current < 2_000) return;
    lastTyped.current = Date.now();
    socket.emit('presence.typing', { sessionId }, () => undefined);
  }, [socket, sessionId]);

  const me = access.state === 'ok' ? access.access.actor.id : null;
  const typingNames = Object.entries(typing)
    .filter(([id]) => id !== me)
    .map(([, v]) => v.name);

  /** An approval decided here: shown at once (the broadcast confirms it). */
  const approvalSettled = useCallback((a: Approval) => {
    setApprovals((list) => upsert(list, a, (x) => x.approvalId === a.approvalId));
  }, []);
  const commentChanged = useCallback((c: Comment) => {
    setComments((list) => upsert(list, c, (x) => x.id === c.id));
  }, []);

  return { access, viewers, typingNames, comments, approvals, notifyTyping, approvalSettled, commentChanged };
}

export type Collab = ReturnType<typeof useCollab>;
