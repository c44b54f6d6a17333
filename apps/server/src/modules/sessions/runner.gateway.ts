import { Logger } from '@nestjs/common';
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
  type HeartbeatAck,
  type HelloAck,
  type ItemsAck,
  NS_RUNNER,
  PROTOCOL_VERSION,
  type RotateCredentialAck,
  RunnerHandshakeAuth,
  rooms,
  type SpawnChildAck,
} from '@yoke/protocol';
import type { Namespace, Socket } from 'socket.io';
import { answer } from '../../core/errors/ws-ack';
import { inEventSpan } from '../../core/telemetry/trace-context';
import { MetricsService } from '../../core/metrics/metrics.service';
import { RealtimeHub } from '../../core/realtime/realtime-hub';
import { connectError } from '../../core/realtime/socket-auth';
import { Allow } from '../../core/auth/access';
import { AuditContext, type AuditOrigin } from '../audit/audit-context';
import { Audited, NotAudited } from '../audit/audited';
import { runnerActor, type RunnerIdentity, RunnersService } from '../runners/runners.service';
import { RunnerEventsService } from './runner-events.service';
import { SessionsService } from './sessions.service';
import { SessionViewsService } from './session-views.service';

type RunnerSocket = Socket & {
  /** `recorded`: whether the connection was recorded (online, audited); hello is answered only once it settles. */
  data: { runner: RunnerIdentity; recorded?: Promise<boolean> };
};

/** The /runner namespace: runners authenticate at the handshake with their credential. */
@WebSocketGateway({ namespace: NS_RUNNER })
export class RunnerGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(RunnerGateway.name);

  constructor(
    private readonly runners: RunnersService,
    private readonly events: RunnerEventsService,
    private readonly sessions: SessionsService,
    private readonly views: SessionViewsService,
    private readonly hub: RealtimeHub,
    private readonly metrics: MetricsService,
    private readonly auditContext: AuditContext,
  ) {
    // A revoked runner's sessions name it as revoked at once, connected or not (an offline one has no socket to close).
    runners.onRevoked((runnerId) => this.views.publishRunnerSessions(runnerId));
  }

  afterInit(nsp: Namespace): void {
    // The one place /runner is handed over: everything else reaches runner sockets through the hub.
    this.hub.bindRunners(nsp);
    nsp.use((socket, next) => {
      const auth = RunnerHandshakeAuth.safeParse(socket.handshake.auth);
      if (!auth.success)
        return next(connectError(new AppError('auth.unauthenticated', 'a runner credential is required')));
      if (auth.data.protocolVersion !== PROTOCOL_VERSION) {
        return next(
          connectError(
            new AppError(
              'protocol.version_mismatch',
              `server speaks protocol ${PROTOCOL_VERSION}, runner ${auth.data.protocolVersion}`,
            ),
          ),
        );
      }
      this.runners.authenticate(auth.data.credential).then(
        (runner) => {
          (socket as RunnerSocket).data.runner = runner;
          next();
        },
        (err: unknown) => next(connectError(err)),
      );
    });
  }

  async handleConnection(socket: RunnerSocket): Promise<void> {
    const { runner } = socket.data;
    if (!runner) return;
    // Set before the first await: Nest binds the message handlers right after this returns its promise, and a hello
    // must not be answered (the runner then reports itself connected) before the runner is recorded as online.
    socket.data.recorded = this.recordConnected(socket, runner);
    if (!(await socket.data.recorded)) return;
    this.logger.log({ runnerId: runner.runnerId, name: runner.name }, 'runner connected');
    await this.views.publishRunnerSessions(runner.runnerId);
  }

  private async recordConnected(socket: RunnerSocket, runner: RunnerIdentity): Promise<boolean> {
    socket.on('session.delta', (body: unknown) => this.onDelta(socket, body));
    await socket.join(rooms.runner(runner.runnerId));
    this.metrics.runnersConnected.inc();
    try {
      await this.auditContext.run(originOf(socket), () => this.runners.connected(runner));
      return true;
    } catch (err) {
      // No runner link the audit log does not know of: the runner reconnects after a server-side close, until it can.
      this.logger.error({ err, runnerId: runner.runnerId }, 'could not record the runner as connected; closing it');
      socket.disconnect(true);
      return false;
    }
  }

  async handleDisconnect(socket: RunnerSocket): Promise<void> {
    const { runner } = socket.data;
    if (!runner) return;
    this.metrics.runnersConnected.dec();
    this.events.forgetRunner(runner.runnerId);
    try {
      // Another replica may still hold this runner's link. Where Redis cannot tell (an outage), count it as gone:
      // the offline check waits out its grace period and a runner that is still connected heartbeats back online.
      const remaining = await this.hub.fetchSockets('runner', rooms.runner(runner.runnerId)).catch((err: unknown) => {
        this.logger.warn({ err, runnerId: runner.runnerId }, 'could not ask the other replicas for this runner');
        return [];
      });
      if (remaining.length > 0) return;
      await this.auditContext.run(originOf(socket), () => this.runners.disconnected(runner));
      this.logger.log({ runnerId: runner.runnerId }, 'runner disconnected');
      await this.views.publishRunnerSessions(runner.runnerId);
    } catch (err) {
      this.logger.error({ err, runnerId: runner.runnerId }, 'recording the runner as disconnected failed');
    }
  }

  @Allow('runner')
  @NotAudited('reconnect bookkeeping: the runner reports what it persisted and gets its undelivered inputs again')
  @SubscribeMessage('runner.hello')
  hello(@ConnectedSocket() socket: RunnerSocket, @MessageBody() body: unknown): Promise<HelloAck> {
    return answer(undefined, async () => {
      if (!(await socket.data.recorded))
        throw new AppError('runner.not_connected', 'this connection could not be recorded; reconnect');
      return this.events.hello(socket.data.runner, body);
    });
  }

  @Allow('runner')
  @NotAudited('liveness only (connections are runner.connected / runner.disconnected)')
  @SubscribeMessage('runner.heartbeat')
  heartbeat(@ConnectedSocket() socket: RunnerSocket): Promise<HeartbeatAck> {
    return answer(undefined, async () => ({
      at: (await this.runners.heartbeat(socket.data.runner.runnerId)).toISOString(),
    }));
  }

  @Allow('runner')
  @Audited('runner.rotated')
  @SubscribeMessage('runner.rotate_credential')
  rotateCredential(@ConnectedSocket() socket: RunnerSocket): Promise<RotateCredentialAck> {
    return answer(undefined, () => this.runners.rotateCredential(socket.data.runner));
  }

  @Allow('runner')
  @Audited(
    'session.prompt',
    'tool.call',
    'tool.result',
    'policy.decision',
    'approval.requested',
    'approval.decided',
    'session.turn_failed',
  )
  @SubscribeMessage('session.items')
  items(@ConnectedSocket() socket: RunnerSocket, @MessageBody() body: unknown): Promise<ItemsAck> {
    const runner = socket.data.runner;
    return answer(undefined, () =>
      inEventSpan('session.items', body, { 'yoke.runner.id': runner.runnerId, 'yoke.org.id': runner.orgId }, () =>
        this.events.items(runner, body),
      ),
    );
  }

  @Allow('runner')
  @Audited('session.created')
  @SubscribeMessage('session.spawn_child')
  spawnChild(@ConnectedSocket() socket: RunnerSocket, @MessageBody() body: unknown): Promise<SpawnChildAck> {
    const runner = socket.data.runner;
    return answer(undefined, () =>
      inEventSpan('session.spawn_child', body, { 'yoke.runner.id': runner.runnerId, 'yoke.org.id': runner.orgId }, () =>
        this.sessions.spawnChild(runner, body),
      ),
    );
  }

  /** Deltas carry no ack and skip Nest's dispatch; a bad one is dropped and logged, and changes nothing. */
  private onDelta(socket: RunnerSocket, body: unknown): void {
    const refuse = (err: unknown) =>
      this.logger.warn(
        { err: err instanceof AppError ? err.toBody() : err, runnerId: socket.data.runner.runnerId },
        'delta refused',
      );
    try {
      const pending = this.events.delta(socket.data.runner, body);
      if (pending instanceof Promise) pending.catch(refuse);
    } catch (err) {
      refuse(err);
    }
  }
}

/** Connection hooks run outside Nest's interceptors: the runner's own origin for the events they record. */
function originOf(socket: RunnerSocket): AuditOrigin {
  const agent = socket.handshake.headers['user-agent'];
  return {
    actor: runnerActor(socket.data.runner),
    requestId: `socket:${socket.id}`,
    ip: socket.handshake.address || null,
    userAgent: agent ? agent.slice(0, 1000) : null,
  };
}
