import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import { NS_WEB, webSessionRoom } from '@yoke/protocol';
import type { Socket } from 'socket.io';
import { AuthService } from './auth.service';

/**
 * /web sockets opened with a browser session (no token in `auth`) join that session's room, so signing out closes
 * them at once. Authentication itself happens at the handshake (the web gateway's middleware).
 */
@WebSocketGateway({ namespace: NS_WEB })
export class SignInGateway implements OnGatewayConnection {
  constructor(private readonly auth: AuthService) {}

  async handleConnection(socket: Socket): Promise<void> {
    const data = socket.data as { principal?: unknown };
    const auth = (socket.handshake.auth ?? {}) as { token?: unknown };
    if (!data.principal || auth.token || !socket.handshake.headers.cookie) return;
    const id = await this.auth.webSessionId(socket.handshake.headers);
    if (id) await socket.join(webSessionRoom(id));
  }
}
