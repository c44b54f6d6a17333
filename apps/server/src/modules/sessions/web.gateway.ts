import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  AppError,
  type EmptyAck,
  type JoinAck,
  JoinSession,
  LeaveSession,
  NS_WEB,
  rooms,
  WebHandshakeAuth,
} from '@yoke/protocol';
import { Logger } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { outageOf } from '../../core/errors/outage';
import { answer } from '../../core/errors/ws-ack';
import { MetricsService } from '../../core/metrics/metrics.service';
import { RealtimeHub } from '../../core/realtime/realtime-hub';
import { connectError } from '../../core/realtime/socket-auth';
import { parseOr } from '../../core/validation';
import { Allow } from '../../core/auth/access';
import { NotAudited } from '../audit/audited';
import { AuthService } from '../auth/auth.service';
import type { Principal, PrincipalSource } from '../../core/auth/principal';
import { SessionAccessService } from '../access/session-access.service';
import { SessionQueriesService } from './session-queries.service';
import { GuestAllowed } from '../../core/auth/guest-allowed';

type WebSocket = Socket & { data: { principal: Principal; source?: PrincipalSource } };

/** Waits between attempts to re-check a new socket's credential while that check fails for want of a dependency. */
const RECHECK_BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000, 10_000];

/** The /web namespace: browsers and the CLI watch sessions; authenticated at the handshake like REST. */
@WebSocketGateway({ namespace: NS_WEB })
export class WebGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(WebGateway.name);

  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionQueriesService,
    private readonly hub: RealtimeHub,
    private readonly metrics: MetricsService,
    private readonly access: SessionAccessService,
  ) {}

  afterInit(nsp: Namespace): void {
    // The one place /web is handed over: everything else reaches its sockets through the hub.
    this.hub.bindWeb(nsp);
    nsp.use((socket, next) => {
      void (async () => {
        try {
          const { principal, source } = await this.identify(socket);
          (socket as WebSocket).data.principal = principal;
          (socket as WebSocket).data.source = source;
          // Joined before the connection is accepted, so a change that follows the client's `connect` finds it.
          await socket.join(await this.roomsOf(principal, source));
        } catch (err) {
          next(connectError(err));
          return;
        }
        next();
      })();
    });
  }

  /** The same identity as REST: a bearer token in `auth`, else the browser's session cookie (embedded: local user). */
  private identify(socket: Socket) {
    const parsed = WebHandshakeAuth.safeParse(socket.handshake.auth ?? {});
    const token = parsed.success ? parsed.data.token : '\u0000invalid';
    return this.auth.authenticateHeaders(socket.handshake.headers, { token });
  }

  /**
   * The rooms that reach a socket when its credentials or access change: a link guest's share rooms; a person's
   * member and user rooms, the room of the credential it came with (browser session or API token), and the sessions
   * shared with them (their lists follow those).
   */
  private async roomsOf(p: Principal, source: PrincipalSource): Promise<string[]> {
    if (p.scope) return [rooms.share(p.scope.grantId), ...(p.scope.linkId ? [rooms.share(p.scope.linkId)] : [])];
    const joined: string[] = [rooms.member(p.orgId, p.userId), rooms.user(p.userId)];
    if (source.kind === 'token') joined.push(rooms.apiToken(source.tokenId));
    if (source.kind === 'cookie') joined.push(rooms.webSession(source.webSessionId));
    const visible = await this.access.visibleSessions(p);
    for (const id of visible?.grantedIds ?? []) joined.push(rooms.sharedWith(id));
    return joined;
  }

  /**
   * A sign-out, revoke or role change that landed while this socket was being accepted found no socket to close (it
   * was not connected yet): the credential is checked once more now that the socket is reachable, and a socket
   * whose credential ended, or whose role changed, is closed (the client reconnects with what is current).
   * Only a refusal (`auth.*`) closes it: when the check cannot be made (the database blinked), the socket stays and
   * the check is made again, backing off, until it gets an answer or the socket goes.
   */
  async handleConnection(socket: WebSocket): Promise<void> {
    this.metrics.socketsConnected.inc({ namespace: NS_WEB });
    const accepted = socket.data.principal;
    if (!accepted) return;
    for (let attempt = 0; socket.connected; attempt++) {
      try {
        const { principal: current } = await this.identify(socket);
        if (current.role !== accepted.role || current.scope?.role !== accepted.scope?.role) socket.disconnect(true);
        return;
      } catch (err) {
        if (err instanceof AppError && err.code.startsWith('auth.')) {
          socket.disconnect(true);
          return;
        }
        const retryInMs = RECHECK_BACKOFF_MS[Math.min(attempt, RECHECK_BACKOFF_MS.length - 1)];
        this.logger.warn(
          { err, dependency: outageOf(err), socketId: socket.id, retryInMs },
          'the credential of a new socket could not be checked again; keeping the socket and retrying',
        );
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            socket.off('disconnect', done);
            resolve();
          };
          const timer = setTimeout(done, retryInMs);
          timer.unref();
          socket.once('disconnect', done);
        });
      }
    }
  }

  handleDisconnect(): void {
    this.metrics.socketsConnected.dec({ namespace: NS_WEB });
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('watching a session the caller may see: a read')
  @SubscribeMessage('session.join')
  join(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown): Promise<JoinAck> {
    return answer(undefined, () => {
      const { sessionId, afterSeq } = parseOr(JoinSession, body);
      return this.sessions.join(socket.data.principal, sessionId, afterSeq, () =>
        socket.join(rooms.session(sessionId)),
      );
    });
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('stops watching a session')
  @SubscribeMessage('session.leave')
  leave(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown): Promise<EmptyAck> {
    return answer(undefined, async () => {
      const { sessionId } = parseOr(LeaveSession, body);
      await socket.leave(rooms.session(sessionId));
      return {};
    });
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('follows session list updates the caller may see: a read')
  @SubscribeMessage('sessions.watch')
  watch(@ConnectedSocket() socket: WebSocket): Promise<EmptyAck> {
    return answer(undefined, async () => {
      const p = socket.data.principal;
      // Org-wide updates for those who may watch every session; members hear their own (the user room) instead.
      await socket.join(p.role === 'member' || p.scope ? rooms.user(p.userId) : rooms.org(p.orgId));
      return {};
    });
  }
}
