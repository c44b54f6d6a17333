import { NS_WEB, type ServerToWebEvents, type WebToServerEvents } from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';

export type WebSocketClient = Socket<ServerToWebEvents, WebToServerEvents>;

/**
 * A connection to a server's `/web` namespace (`server` '' means the page's own origin). The token travels in the
 * handshake `auth`, never in the query string; websocket only; reconnects with backoff up to 5 s.
 */
export function connectWeb(server: string, token: string | null | undefined): WebSocketClient {
  return io(`${server}${NS_WEB}`, {
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
