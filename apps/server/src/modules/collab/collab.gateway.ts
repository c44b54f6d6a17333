import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type EmptyAck, NS_WEB, TypingBody } from '@yoke/protocol';
import type { Socket } from 'socket.io';
import { answer } from '../../core/errors/ws-ack';
import { parseOr } from '../../core/validation';
import { Allow } from '../../core/auth/access';
import { NotAudited } from '../audit/audited';
import type { Principal } from '../../core/auth/principal';
import { PresenceService, type PresenceData } from './presence.service';
import { GuestAllowed } from '../../core/auth/guest-allowed';

type WebSocket = Socket & { data: { principal?: Principal; presence?: PresenceData } };

/**
 * Collaboration on the /web namespace (the handshake, and the rooms each socket joins before it is accepted, are the
 * sessions gateway's): joining a session room publishes who is watching and puts the socket in the rooms of the
 * share its access comes from, so revoking that share disconnects it. Drivers' typing goes to the session's room.
 */
@WebSocketGateway({ namespace: NS_WEB })
export class CollabGateway {
  constructor(private readonly presence: PresenceService) {}

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('presence: typing indicators are ephemeral')
  @SubscribeMessage('presence.typing')
  typing(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown): Promise<EmptyAck> {
    return answer(undefined, async () => {
      const { sessionId } = parseOr(TypingBody, body);
      await this.presence.typing(socket, sessionId);
      return {};
    });
  }
}
