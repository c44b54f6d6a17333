'use client';

import { useSocket, type ConnectionState } from '@/components/socket-provider';

function label(c: ConnectionState): string {
  switch (c.status) {
    case 'connected':
      return 'live';
    case 'connecting':
      return 'connecting…';
    case 'disconnected':
      return 'offline';
    case 'error':
      return `not connected: ${c.message}`;
  }
}

/** The live connection to the server, for people and for browser tests (`data-state`). */
export function ConnectionBadge() {
  const { connection } = useSocket();
  return (
    <span
      className={`connection conn-${connection.status}`}
      data-testid="connection-state"
      data-state={connection.status}
      role="status"
    >
      <span className="dot" aria-hidden="true" />
      {label(connection)}
    </span>
  );
}
