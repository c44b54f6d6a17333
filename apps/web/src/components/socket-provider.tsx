'use client';

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useToken } from '@/hooks/use-token';
import { connectWebSocket, describeConnectError, type WebSocketClient } from '@/lib/socket';

export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'connected' }
  | { status: 'disconnected'; reason: string }
  | { status: 'error'; message: string };

type SocketContextValue = { socket: WebSocketClient | null; connection: ConnectionState };

const SocketContext = createContext<SocketContextValue>({ socket: null, connection: { status: 'connecting' } });

/**
 * Owns the page's single socket.io connection to `/web`, shared by every view across client-side navigation.
 * A new token (set on the list page, or in another tab) replaces the connection.
 */
export function SocketProvider({ children }: { children: ReactNode }) {
  const token = useToken();
  const [value, setValue] = useState<SocketContextValue>({ socket: null, connection: { status: 'connecting' } });

  useEffect(() => {
    const socket = connectWebSocket(token);
    const set = (connection: ConnectionState) => setValue({ socket, connection });
    set({ status: 'connecting' });
    socket.on('connect', () => set({ status: 'connected' }));
    socket.on('disconnect', (reason) => set({ status: 'disconnected', reason }));
    socket.on('connect_error', (err) => set({ status: 'error', message: describeConnectError(err) }));
    socket.io.on('reconnect_attempt', () => set({ status: 'connecting' }));
    return () => {
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
    };
  }, [token]);

  return <SocketContext.Provider value={value}>{children}</SocketContext.Provider>;
}

export function useSocket(): SocketContextValue {
  return useContext(SocketContext);
}
