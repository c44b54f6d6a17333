'use client';

import type { AuditEvent } from '@yoke/protocol';
import { useEffect, useRef, useState } from 'react';
import { parseAppended } from '@/components/audit/audit-api';
import { useSocket } from '@/components/socket-provider';
import { ACK_TIMEOUT_MS } from '@/lib/socket';
import { isAckOk, parseErrorBody } from '@/lib/wire';

export type AuditWatch =
  { status: 'off' } | { status: 'watching'; epoch: number } | { status: 'refused' | 'unavailable'; message: string };

/**
 * Follows the org's audit log live: `audit.watch` on every (re)connect of the page's socket. `epoch` counts the
 * watches acknowledged, so readers catch up (by REST, after their last seq) on what arrived while disconnected.
 */
export function useAuditWatch(enabled: boolean): AuditWatch {
  const { socket, connection } = useSocket();
  const [watch, setWatch] = useState<AuditWatch>({ status: 'off' });
  const epoch = useRef(0);

  useEffect(() => {
    if (!socket || !enabled) return;
    let isCurrent = true;
    const start = () => {
      socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('audit.watch', {})
        .then(
          (reply: unknown) => {
            if (!isCurrent) return;
            if (isAckOk(reply)) {
              epoch.current += 1;
              setWatch({ status: 'watching', epoch: epoch.current });
            } else {
              const message = parseErrorBody(reply)?.message ?? 'the server refused to follow the audit log';
              setWatch({ status: 'refused', message });
            }
          },
          () => isCurrent && setWatch({ status: 'unavailable', message: 'the server did not answer' }),
        );
    };
    const stop = () => setWatch({ status: 'off' });
    socket.on('connect', start);
    socket.on('disconnect', stop);
    if (socket.connected) start();
    return () => {
      isCurrent = false;
      socket.off('connect', start);
      socket.off('disconnect', stop);
    };
  }, [socket, enabled]);

  return connection.status === 'connected' || watch.status !== 'watching' ? watch : { status: 'off' };
}

/** Calls `onEvents` with each live `audit.appended` batch (parsed; the listener may change between renders). */
export function useAuditAppended(onEvents: (events: AuditEvent[]) => void): void {
  const { socket } = useSocket();
  const listener = useRef(onEvents);
  useEffect(() => {
    listener.current = onEvents;
  });
  useEffect(() => {
    if (!socket) return;
    const on = (raw: unknown) => {
      const events = parseAppended(raw);
      if (events.length > 0) listener.current(events);
    };
    socket.on('audit.appended', on);
    return () => {
      socket.off('audit.appended', on);
    };
  }, [socket]);
}
