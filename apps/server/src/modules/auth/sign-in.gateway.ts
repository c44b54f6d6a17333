import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import { apiTokenRoom, memberRoom, NS_WEB, webSessionRoom } from '@yoke/protocol';
import type { Socket } from 'socket.io';
import { AuthService } from './auth.service';
import type { Principal } from './principal';

/**
 * Rooms that let a change of credentials reach live /web sockets at once: the credential's room (a browser session
 * or an API token: signing out or revoking closes them) and the member's room in the org (a role change or removal
 * closes them, and they re-authenticate with the current role). Authentication itself happens at the handshake.
 */
@WebSocketGateway({ namespace: NS_WEB })
export class SignInGateway implements OnGatewayConnection {
  constructor(private readonly auth: AuthService) {}

  async handleConnection(socket: Socket): Promise<void> {
    const p = (socket.data as { principal?: Principal }).principal;
    if (!p || p.scope) return;
    const token = (socket.handshake.auth ?? {}) as { token?: unknown };
    const joined = [memberRoom(p.orgId, p.userId)];
    if (typeof token.token === 'string') {
      const id = await this.auth.apiTokenId(token.token);
      if (id) joined.push(apiTokenRoom(id));
    } else if (socket.handshake.headers.cookie) {
      const id = await this.auth.webSessionId(socket.handshake.headers);
      if (id) joined.push(webSessionRoom(id));
    }
    await socket.join(joined);
  }
}
