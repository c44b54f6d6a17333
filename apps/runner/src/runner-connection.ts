import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import {
  HeartbeatAck,
  HelloAck,
  NS_RUNNER,
  PROTOCOL_VERSION,
  type RunnerToServerEvents,
  type ServerToRunnerEvents,
} from '@yoke/protocol';
import { loadIdentity, type RunnerIdentityFile } from './identity';
import type { SessionSupervisor } from './session-supervisor';

export type RunnerSocket = Socket<ServerToRunnerEvents, RunnerToServerEvents>;

export interface RunnerConnectionOptions {
  home: string;
  identity: RunnerIdentityFile;
  log: Logger;
  heartbeatMs?: number;
  /** How long a runner that had connected keeps retrying while its credential is refused (default 2 minutes). */
  authGraceMs?: number;
}

export interface RunnerConnectionEvents {
  /** The server answered hello: every session's outbox knows what the server holds, sending may start. */
  onReady: () => void;
  /** The server refused this runner for good (revoked, another protocol, a wrong credential): the runner stops. */
  onRefused: () => void;
}

export const ACK_TIMEOUT_MS = 15_000;
export const SEND_RETRY_MS = 1_000;
const AUTH_GRACE_MS = 120_000;

/**
 * The runner's one socket to its server: connects and reconnects with backoff, says hello with each session's last
 * item so the outboxes learn what the server persisted, sends heartbeats, and decides what a refused handshake means.
 */
export class RunnerConnection {
  readonly socket: RunnerSocket;
  private heartbeat: NodeJS.Timeout | null = null;
  private ready = false;
  private stopped = false;
  private everConnected = false;
  private authLostAt: number | null = null;
  private refusals = 0;
  private connections = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly opts: RunnerConnectionOptions,
    private readonly sessions: ReadonlyMap<string, Pick<SessionSupervisor, 'sessionId' | 'outbox'>>,
    private readonly events: RunnerConnectionEvents,
  ) {
    this.log = opts.log;
    this.socket = io(`${opts.identity.server}${NS_RUNNER}`, {
      auth: { credential: opts.identity.credential, protocolVersion: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 5_000,
      randomizationFactor: 0.5,
      autoConnect: false,
    });
    this.wire();
  }

  /** Connected and greeted: items and deltas may be sent. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Counts the greeted connections: what was sent on an earlier one gets no reply any more. */
  get epoch(): number {
    return this.connections;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.socket.connect();
    this.heartbeat = setInterval(() => {
      if (this.ready) this.beat();
    }, this.opts.heartbeatMs ?? 10_000);
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }

  private wire(): void {
    this.socket.on('connect', () => void this.hello());
    this.socket.on('disconnect', (reason) => {
      this.ready = false;
      this.log.warn({ reason }, 'disconnected from server');
      // A server-side disconnect does not reconnect by itself; anything else does.
      if (reason === 'io server disconnect' && !this.stopped) setTimeout(() => this.socket.connect(), 1_000);
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
      const code = err.data?.code;
      this.log.warn({ code, message: err.data?.message ?? err.message }, 'cannot connect to server');
      if (this.stopped) return;
      const refusal = this.authRefusal(code);
      if (refusal === 'stop') return void this.events.onRefused();
      // A handshake refused by the server is not retried by socket.io itself: retry here, with backoff.
      if (!this.socket.active) this.retryConnect();
    });
  }

  /**
   * What a refused handshake means. Revoked, or a protocol this server does not speak: stop. A credential refused
   * before this process ever connected: stop (it is wrong; re-enrol). Refused after a successful connect: the
   * credential may have been rotated on disk (`yoke runner rotate`), or auth is briefly unavailable: reload it and
   * retry for a while instead of dropping every session, then stop.
   */
  private authRefusal(code: string | undefined): 'stop' | 'retry' {
    if (code === 'runner.revoked') {
      this.log.error('this runner was revoked by an org admin; stopping (enrol again to bring it back)');
      return 'stop';
    }
    if (code === 'protocol.version_mismatch') {
      this.log.error('the server speaks another protocol version; stopping (upgrade the runner)');
      return 'stop';
    }
    if (code !== 'auth.invalid_token' && code !== 'auth.unauthenticated') return 'retry';
    const stored = loadIdentity(this.opts.home);
    const auth = this.socket.auth as { credential: string; protocolVersion: number };
    if (stored && stored.credential !== auth.credential) {
      this.log.info('the stored runner credential changed; reconnecting with it');
      this.socket.auth = { ...auth, credential: stored.credential };
      this.authLostAt = null;
      return 'retry';
    }
    if (!this.everConnected) {
      this.log.error('the server refused this runner credential; stopping (re-enrol with `yoke runner enrol`)');
      return 'stop';
    }
    this.authLostAt ??= Date.now();
    if (Date.now() - this.authLostAt > (this.opts.authGraceMs ?? AUTH_GRACE_MS)) {
      this.log.error('the server kept refusing this runner credential; stopping (re-enrol with `yoke runner enrol`)');
      return 'stop';
    }
    this.log.warn('the server refused this runner credential after it had connected; retrying');
    return 'retry';
  }

  /** Drops this connection and opens another after the backoff (a hello that got no usable answer). */
  private reconnect(): void {
    if (this.stopped) return;
    this.socket.disconnect();
    this.retryConnect();
  }

  /** A heartbeat; its answer is only logged (a refused or malformed one changes nothing here). */
  private beat(): void {
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit('runner.heartbeat', { activeSessions: this.sessions.size }, (err: Error | null, raw: unknown) => {
        if (err) return void this.log.warn('server did not answer a heartbeat');
        const parsed = HeartbeatAck.safeParse(raw);
        if (!parsed.success) {
          this.log.error(
            { issues: z.prettifyError(parsed.error) },
            'the server answered a heartbeat with a reply the protocol does not allow',
          );
        } else if (!parsed.data.ok) {
          this.log.warn({ error: parsed.data.error }, 'heartbeat refused');
        }
      });
  }

  private retryConnect(): void {
    if (this.retryTimer) return;
    const delay = Math.min(5_000, 250 * 2 ** Math.min(this.refusals++, 5));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  /**
   * Says hello on a new connection. Without a usable answer (refused, or not what the protocol says a hello ack is)
   * nothing is sent on this connection: it is closed and opened again, with backoff, until a hello is answered.
   */
  private async hello(): Promise<void> {
    const sessions = [...this.sessions.values()].map((s) => ({ sessionId: s.sessionId, lastSeq: s.outbox.last }));
    let raw: unknown;
    try {
      raw = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('runner.hello', { sessions });
    } catch {
      this.log.warn('server did not answer hello; reconnecting');
      this.socket.disconnect().connect();
      return;
    }
    const parsed = HelloAck.safeParse(raw);
    if (!parsed.success) {
      this.log.error(
        { issues: z.prettifyError(parsed.error) },
        'the server answered hello with a reply the protocol does not allow; reconnecting',
      );
      return this.reconnect();
    }
    const reply = parsed.data;
    if (!reply.ok) {
      this.log.error({ error: reply.error }, 'hello refused; reconnecting');
      return this.reconnect();
    }
    for (const { sessionId, persistedSeq } of reply.sessions) this.sessions.get(sessionId)?.outbox.ack(persistedSeq);
    this.connections++;
    this.ready = true;
    this.everConnected = true;
    this.authLostAt = null;
    this.refusals = 0;
    this.log.info({ runnerId: reply.runnerId, sessions: sessions.length }, 'connected to server');
    this.events.onReady();
  }
}
