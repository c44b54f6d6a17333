import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type EmptyAck, NS_WEB, rooms, WatchAudit } from '@yoke/protocol';
import type { Socket } from 'socket.io';
import { Allow } from '../../core/auth/access';
import type { Principal } from '../../core/auth/principal';
import { answer } from '../../core/errors/ws-ack';
import { parseOr } from '../../core/validation';
import { AuditQueries } from './audit-queries.service';
import { Audited } from './audited';

type WebSocket = Socket & { data: { principal: Principal } };

/** The org's audit log, live on /web: `audit.appended` events reach the sockets that asked (rule `audit`). */
@WebSocketGateway({ namespace: NS_WEB })
export class AuditGateway {
  constructor(private readonly queries: AuditQueries) {}

  @Allow('audit')
  @Audited('audit.read')
  @SubscribeMessage('audit.watch')
  watch(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown): Promise<EmptyAck> {
    return answer(undefined, () => {
      parseOr(WatchAudit, body ?? {});
      return this.queries.watch(socket.data.principal, () => socket.join(rooms.audit(socket.data.principal.orgId)));
    });
  }
}
