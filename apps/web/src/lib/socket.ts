import { NS_WEB, type ServerToWebEvents, type WebToServerEvents } from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';

export type WebSocketClient = Socket<ServerToWebEvents, WebToServerEvents>;

/** How long to wait for an ack before treating the request as lost. */
export const ACK_TIMEOUT_MS = 15_000;

/**
 * The browser's one connection to the server's `/web` namespace, same origin. The token travels in the
 * handshake `auth`, never in the query string; websocket only (no long-polling fallback).
 */
export function connectWebSocket(token: string | null): WebSocketClient {
  return io(NS_WEB, {
    auth: token ? { token } : {},
    transports: ['websocket'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
  });
}

/** The message of a `connect_error`, preferring the server's `{code, message}` in `err.data`. */
export function describeConnectError(err: Error): string {
  const data = (err as Error & { data?: unknown }).data;
  if (typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string') {
    return data.message;
  }
  return err.message || 'connection failed';
}
