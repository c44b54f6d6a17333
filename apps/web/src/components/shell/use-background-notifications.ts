'use client';

import type { Session, SessionStatus } from '@yoke/protocol';
import { useEffect, useRef } from 'react';
import { useSocket } from '@/components/socket-provider';
import { useMe } from '@/hooks/use-me';
import { getAccess } from '@/lib/collab-api';
import { notificationPermission, notify } from './pwa';

/**
 * While the tab is hidden and notifications are allowed: notifies when a session starts waiting for an approval you
 * may decide (you own it, or its owner let you approve), and when a turn ends (or fails) in a session you own. Follows
 * the org's sessions with `sessions.watch`.
 */
export function useBackgroundNotifications(): void {
  const { socket } = useSocket();
  const who = useMe();
  const myId = who?.me.userId ?? null;
  const last = useRef(new Map<string, SessionStatus>());

  useEffect(() => {
    if (!socket) return;
    const statuses = last.current;
    const watch = () =>
      void socket
        .timeout(15_000)
        .emitWithAck('sessions.watch', {})
        .catch(() => undefined);
    const onUpdated = (s: Session) => {
      const before = statuses.get(s.id);
      statuses.set(s.id, s.status);
      if (before === s.status || !document.hidden || notificationPermission() !== 'granted') return;
      const title = s.title || 'A session';
      const href = `/session/?id=${s.id}`;
      if (s.status === 'waiting_approval') {
        void mayDecide(s, myId).then(async (may) => {
          if (may) await notify('Approval needed', `${title} is waiting for your approval.`, href, `approval-${s.id}`);
        });
      } else if (before === 'running' && myId !== null && s.ownerId === myId) {
        if (s.status === 'idle')
          void notify('Turn finished', `${title}: the agent has finished.`, href, `turn-${s.id}`);
        if (s.status === 'failed') {
          void notify('Turn failed', `${title}: ${s.statusReason ?? 'the turn failed'}.`, href, `turn-${s.id}`);
        }
      }
    };
    socket.on('connect', watch);
    socket.on('session.updated', onUpdated);
    if (socket.connected) watch();
    return () => {
      socket.off('connect', watch);
      socket.off('session.updated', onUpdated);
    };
  }, [socket, myId]);
}

/** Whether the viewer may decide the session's approvals: its owner, or someone the owner delegated approving to. */
async function mayDecide(s: Session, myId: string | null): Promise<boolean> {
  if (myId !== null && s.ownerId === myId) return true;
  return getAccess(s.id)
    .then((a) => a.canApprove)
    .catch(() => false);
}
