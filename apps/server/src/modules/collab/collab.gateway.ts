import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { NS_WEB, rooms, TypingBody } from '@yoke/protocol';
import type { Namespace, Socket } from 'socket.io';
import { answer } from '../../core/errors/ws-ack';
import { parseOr } from '../../core/validation';
import { SessionAccessService } from '../access/session-access.service';
import { Allow } from '../auth/access';
import type { Principal } from '../auth/principal';
import { PresenceService, type PresenceData } from './presence.service';
import { GuestAllowed } from '../access/guest-allowed';

type WebSocket = Socket & { data: { principal?: Principal; presence?: PresenceData } };

/**
 * Collaboration on the /web namespace (the handshake is authenticated by the sessions gateway): each socket joins
 * its user's room; joining a session room publishes who is watching and puts the socket in the rooms of the share
 * its access comes from, so revoking that share disconnects it. Drivers' typing goes to the session's room.
 */
@WebSocketGateway({ namespace: NS_WEB })
export class CollabGateway implements OnGatewayInit, OnGatewayConnection {
  constructor(
    private readonly presence: PresenceService,
    private readonly access: SessionAccessService,
  ) {}

  afterInit(nsp: Namespace): void {
    this.presence.attach(nsp);
  }

  async handleConnection(socket: WebSocket): Promise<void> {
    const p = socket.data.principal;
    if (!p) return;
    if (p.scope) {
      await socket.join([rooms.share(p.scope.grantId), ...(p.scope.linkId ? [rooms.share(p.scope.linkId)] : [])]);
    } else {
      // A member's session list follows the sessions shared with them (others watch the whole org).
      const visible = await this.access.visibleSessions(p);
      await socket.join([rooms.user(p.userId), ...(visible?.grantedIds ?? []).map((id) => rooms.sharedWith(id))]);
    }
  }

  @Allow('auditor')
  @GuestAllowed()
  @SubscribeMessage('presence.typing')
  typing(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown) {
    return answer(undefined, async () => {
      const { sessionId } = parseOr(TypingBody, body);
      await this.presence.typing(socket, sessionId);
      return {};
    });
  }
}
