import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { JoinSession, LeaveSession, NS_WEB, rooms, WebHandshakeAuth } from '@yoke/protocol';
import { Inject } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Namespace, Socket } from 'socket.io';
import { answer } from '../../core/errors/ws-ack';
import { MetricsService } from '../../core/metrics/metrics.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { SessionWatchers } from '../../core/realtime/session-watchers';
import { REDIS_CLIENT } from '../../core/redis/redis.tokens';
import { connectError } from '../../core/realtime/socket-auth';
import { parseOr } from '../../core/validation';
import { Allow } from '../auth/access';
import { AuthService } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { DeltaRelay } from './delta-relay';
import { SessionsService } from './sessions.service';
import { GuestAllowed } from '../access/guest-allowed';

type WebSocket = Socket & { data: { principal: Principal } };

/** The /web namespace: browsers and the CLI watch sessions; authenticated at the handshake like REST. */
@WebSocketGateway({ namespace: NS_WEB })
export class WebGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly publisher: RealtimePublisher,
    private readonly metrics: MetricsService,
    private readonly watchers: SessionWatchers,
    private readonly deltas: DeltaRelay,
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
  ) {}

  afterInit(nsp: Namespace): void {
    if (this.redis) {
      // Team mode: the Redis adapter fans out across replicas; deltas only when another replica watches.
      this.watchers.attach(nsp, (sessionId) => this.deltas.snapshot(sessionId));
      // Announcements may have been missed while Redis was away: start again from "unknown" (publish).
      this.redis.on('ready', () => this.watchers.reset());
      this.publisher.attachWeb(nsp, this.watchers);
    } else {
      this.publisher.attachWeb(nsp);
    }
    nsp.use((socket, next) => {
      // The same identity as REST: a bearer token in `auth`, else the browser's session cookie (embedded: local user).
      const parsed = WebHandshakeAuth.safeParse(socket.handshake.auth ?? {});
      this.auth
        .authenticateHeaders(socket.handshake.headers, { token: parsed.success ? parsed.data.token : '\u0000invalid' })
        .then(
          ({ principal }) => {
            (socket as WebSocket).data.principal = principal;
            next();
          },
          (err: unknown) => next(connectError(err)),
        );
    });
  }

  handleConnection(): void {
    this.metrics.socketsConnected.inc({ namespace: NS_WEB });
  }

  handleDisconnect(): void {
    this.metrics.socketsConnected.dec({ namespace: NS_WEB });
  }

  @Allow('auditor')
  @GuestAllowed()
  @SubscribeMessage('session.join')
  join(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown) {
    return answer(undefined, () => {
      const { sessionId, afterSeq } = parseOr(JoinSession, body);
      return this.sessions.join(socket.data.principal, sessionId, afterSeq, () =>
        socket.join(rooms.session(sessionId)),
      );
    });
  }

  @Allow('auditor')
  @GuestAllowed()
  @SubscribeMessage('session.leave')
  leave(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown) {
    return answer(undefined, async () => {
      const { sessionId } = parseOr(LeaveSession, body);
      await socket.leave(rooms.session(sessionId));
      return {};
    });
  }

  @Allow('auditor')
  @GuestAllowed()
  @SubscribeMessage('sessions.watch')
  watch(@ConnectedSocket() socket: WebSocket) {
    return answer(undefined, async () => {
      const p = socket.data.principal;
      // Org-wide updates for those who may watch every session; members hear their own (the user room) instead.
      await socket.join(p.role === 'member' || p.scope ? rooms.user(p.userId) : rooms.org(p.orgId));
      return {};
    });
  }
}
