import { connectWeb, type WebSocketClient } from '@yoke/client';

export { ACK_TIMEOUT_MS, describeConnectError, type WebSocketClient } from '@yoke/client';

/** The browser's one connection to the server's `/web` namespace, same origin (see `connectWeb`). */
export function connectWebSocket(token: string | null): WebSocketClient {
  return connectWeb('', token);
}
