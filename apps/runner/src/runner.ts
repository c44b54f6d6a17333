import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import {
  checkWorkspacePath,
  type Delta,
  type HelloAck,
  type InboxAck,
  type InboxEntry,
  InboxEntry as InboxEntrySchema,
  type ItemsAck,
  MAX_BATCH_ITEMS,
  NS_RUNNER,
  PROTOCOL_VERSION,
  type RunnerToServerEvents,
  type ServerToRunnerEvents,
  type SpawnChildAck,
} from '@yoke/protocol';
import {
  createHarnessAdapter,
  type DelegateRequest,
  type DelegateResult,
  type HarnessAdapter,
  type PermissionHook,
  type ProviderEnv,
} from '@yoke/harness';
import { checkWorkspace, type WorkspaceContext } from '@yoke/omnibox';
import { loadIdentity, type RunnerIdentityFile } from './identity';
import { Outbox } from './outbox';
import { SessionSupervisor, type SupervisorDeps, type TurnResult } from './session-supervisor';
import { runnerSandboxFactory, type SessionSandboxFactory, sandboxModeFromEnv } from './sandbox';
import { serveWorkspaceFiles } from './workspace-files';

export interface RunnerOptions {
  home: string;
  identity: RunnerIdentityFile;
  log: Logger;
  provider?: ProviderEnv;
  /**
   * Let sessions name their workspace (a local runner acting in the user's own directories); each one must still
   * pass `checkWorkspace`. Without it, a session that names one is refused (never moved to another directory).
   */
  allowAnyWorkspace?: boolean;
  /** The home directory `checkWorkspace` protects (default: this user's). */
  userHome?: string;
  adapterFor?: (harness: string) => HarnessAdapter;
  permission?: PermissionHook;
  heartbeatMs?: number;
  /** How long a runner that had connected keeps retrying while its credential is refused (default 2 minutes). */
  authGraceMs?: number;
  /** Every harness runs in Omnibox unless this says otherwise (default: from YOKE_SANDBOX, fail closed). */
  sandbox?: SessionSandboxFactory;
}

const ACK_TIMEOUT_MS = 15_000;
const AUTH_GRACE_MS = 120_000;
const SEND_RETRY_MS = 1_000;
/** How many times a child-session request is sent before the delegate call fails (each waits up to ACK_TIMEOUT_MS). */
const SPAWN_ATTEMPTS = 8;

/**
 * The runner agent: keeps one socket to its server (reconnecting with backoff), applies inputs to its sessions,
 * and streams their items from the on-disk outboxes until the server acknowledged each one.
 */
export class Runner {
  private readonly socket: Socket<ServerToRunnerEvents, RunnerToServerEvents>;
  private readonly sessions = new Map<string, SessionSupervisor>();
  private readonly sending = new Set<string>();
  /** Delegate calls waiting for their child session's turn to end, by child session id. */
  private readonly childWaiters = new Map<string, ((result: TurnResult) => void)[]>();
  /** Child sessions started by each parent's delegate calls during this process's lifetime. */
  private readonly childrenOf = new Map<string, Set<string>>();
  private heartbeat: NodeJS.Timeout | null = null;
  private ready = false;
  private stopped = false;
  private everConnected = false;
  private authLostAt: number | null = null;
  private refusals = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  private readonly deps: Omit<SupervisorDeps, 'dir'>;

  constructor(private readonly opts: RunnerOptions) {
    this.log = opts.log;
    const provider = opts.provider ?? providerFromEnv();
    this.deps = {
      adapterFor: opts.adapterFor ?? createHarnessAdapter,
      provider,
      sandbox: opts.sandbox ?? runnerSandboxFactory({ provider, mode: sandboxModeFromEnv() }),
      permission: opts.permission ?? (async () => ({ behavior: 'allow' })),
      onItems: (id) => this.flush(id),
      onDelta: (id, delta) => this.sendDelta(id, delta),
      log: opts.log,
      delegate: (parentId, request) => this.delegate(parentId, request),
      onTurnEnd: (id, result) => {
        const waiters = this.childWaiters.get(id) ?? [];
        this.childWaiters.delete(id);
        for (const resolve of waiters) resolve(result);
      },
      // Cancelling a parent's turn cancels the children it is waiting for, in turn.
      onCancel: (id, actor) => {
        for (const childId of this.childrenOf.get(id) ?? []) {
          if (this.childWaiters.has(childId)) this.sessions.get(childId)?.cancelTurn(actor);
        }
      },
      checkWorkspace: (workspace) => this.workspaceRefusal(workspace),
    };
    mkdirSync(this.sessionsDir, { recursive: true });
    this.resumeSessions();
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

  get connected(): boolean {
    return this.ready;
  }

  get runnerId(): string {
    return this.opts.identity.runnerId;
  }

  start(): void {
    this.socket.connect();
    this.heartbeat = setInterval(() => {
      if (this.ready) this.socket.emit('runner.heartbeat', { activeSessions: this.sessions.size }, () => undefined);
    }, this.opts.heartbeatMs ?? 10_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket.disconnect();
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
  }

  private get sessionsDir(): string {
    return join(this.opts.home, 'sessions');
  }

  private resumeSessions(): void {
    for (const id of readdirSync(this.sessionsDir)) {
      const sup = SessionSupervisor.resume(id, { ...this.deps, dir: join(this.sessionsDir, id) });
      if (sup) this.sessions.set(id, sup);
    }
    if (this.sessions.size) this.log.info({ sessions: this.sessions.size }, 'resumed sessions from disk');
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
      if (refusal === 'stop') return void this.stop();
      // A handshake refused by the server is not retried by socket.io itself: retry here, with backoff.
      if (!this.socket.active) this.retryConnect();
    });
    serveWorkspaceFiles(this.socket, (id) => this.sessions.get(id)?.workspace ?? null);
    this.socket.on('session.input', (raw, ack) => {
      const reply = this.onInput(raw);
      if (typeof ack === 'function') ack(reply);
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

  private retryConnect(): void {
    if (this.retryTimer) return;
    const delay = Math.min(5_000, 250 * 2 ** Math.min(this.refusals++, 5));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private async hello(): Promise<void> {
    const sessions = [...this.sessions.values()].map((s) => ({ sessionId: s.sessionId, lastSeq: s.outbox.last }));
    let reply: HelloAck;
    try {
      reply = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('runner.hello', { sessions });
    } catch {
      this.log.warn('server did not answer hello; reconnecting');
      this.socket.disconnect().connect();
      return;
    }
    if (!reply.ok) {
      this.log.error({ error: reply.error }, 'hello refused');
      return;
    }
    for (const { sessionId, persistedSeq } of reply.sessions) this.sessions.get(sessionId)?.outbox.ack(persistedSeq);
    this.ready = true;
    this.everConnected = true;
    this.authLostAt = null;
    this.refusals = 0;
    this.log.info({ runnerId: reply.runnerId, sessions: sessions.length }, 'connected to server');
    for (const id of this.sessions.keys()) this.flush(id);
  }

  private onInput(raw: unknown): InboxAck {
    const parsed = InboxEntrySchema.safeParse(raw);
    if (!parsed.success) return { ok: false, error: { code: 'event.invalid', message: 'malformed input' } };
    const entry: InboxEntry = parsed.data;
    try {
      let sup = this.sessions.get(entry.sessionId);
      if (!sup) {
        if (entry.input.kind !== 'start') {
          return { ok: false, error: { code: 'session.not_found', message: 'this runner does not hold that session' } };
        }
        const dir = join(this.sessionsDir, entry.sessionId);
        // A child (a delegation) works in its parent's workspace; the server assigns it to the parent's runner.
        const parent = entry.input.spec.parentId ? this.sessions.get(entry.input.spec.parentId) : undefined;
        const placed = parent?.workspace
          ? { ok: true as const, path: parent.workspace }
          : this.workspaceFor(entry.input.spec.workspace, entry.sessionId);
        // A fork: the server holds items 1..baseSeq already; this session's own items follow them.
        if (entry.input.spec.baseSeq) Outbox.startAfter(dir, entry.input.spec.baseSeq);
        // A refused workspace still makes a session (its items say why), but one that never starts a harness.
        sup = placed.ok
          ? SessionSupervisor.create(entry.input.spec, placed.path, { ...this.deps, dir })
          : SessionSupervisor.createRefused(entry.input.spec, placed.refusal, { ...this.deps, dir });
        this.sessions.set(entry.sessionId, sup);
        if (placed.ok) {
          const { harness } = entry.input.spec;
          this.log.info({ sessionId: entry.sessionId, harness, workspace: placed.path }, 'session started');
        } else {
          this.log.warn({ sessionId: entry.sessionId, refusal: placed.refusal }, 'workspace refused');
        }
      }
      return { ok: true, applied: sup.apply(entry) };
    } catch (err) {
      this.log.error({ err, sessionId: entry.sessionId }, 'could not apply input');
      return { ok: false, error: { code: 'internal', message: 'the runner could not apply the input' } };
    }
  }

  /**
   * A parent's `delegate` call: the server creates the child session (idempotent by the call id, so a retry never
   * makes two) and sends it here like any session; the call resolves with the child's final answer.
   */
  private async delegate(parentId: string, request: DelegateRequest): Promise<DelegateResult> {
    const payload = { parentId, callId: request.callId, agent: request.agent, prompt: request.prompt };
    let reply: SpawnChildAck | null = null;
    for (let attempt = 0; attempt < SPAWN_ATTEMPTS && !this.stopped; attempt++) {
      try {
        reply = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('session.spawn_child', payload);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, SEND_RETRY_MS));
      }
    }
    if (!reply) return { ok: false, error: 'the server did not answer the request for a child session' };
    if (!reply.ok) return { ok: false, error: `the server refused the child session: ${reply.error.message}` };
    const childId = reply.sessionId;
    this.childrenOf.set(parentId, (this.childrenOf.get(parentId) ?? new Set()).add(childId));
    this.log.info({ parentId, childId, agent: request.agent, created: reply.created }, 'delegated to a child session');
    const finished = this.sessions.get(childId)?.lastTurnResult;
    const result =
      finished ??
      (await new Promise<TurnResult>((resolve) => {
        this.childWaiters.set(childId, [...(this.childWaiters.get(childId) ?? []), resolve]);
      }));
    return result.ok
      ? { ok: true, sessionId: childId, text: result.text }
      : { ok: false, sessionId: childId, error: result.error };
  }

  /** The rules `checkWorkspace` applies; this runner's own `workspaces/<id>` directories are not requested ones. */
  private workspaceRefusal(workspace: string): string | null {
    const own = join(this.opts.home, 'workspaces');
    if (dirname(workspace) === own || dirname(workspace) === realOrSelf(own)) return null;
    const check = checkWorkspace(workspace, this.workspaceContext());
    return check.ok ? null : check.refusal.message;
  }

  private workspaceContext(): WorkspaceContext {
    return { home: this.opts.userHome ?? homedir(), runnerHome: this.opts.home, uid: process.getuid?.() ?? 0 };
  }

  /**
   * Where a new session works: the directory it asked for when that passes `checkWorkspace` (resolved to its real
   * path), else a refusal saying why; without a request, a fresh directory of the runner's own.
   */
  private workspaceFor(
    requested: string | null,
    sessionId: string,
  ): { ok: true; path: string } | { ok: false; refusal: string } {
    if (requested) {
      if (!this.opts.allowAnyWorkspace) {
        const lexical = checkWorkspacePath(requested);
        const shown = lexical.ok ? lexical.path : requested;
        return {
          ok: false,
          refusal:
            `workspace ${shown} was not used: this runner only works in directories of its own ` +
            '(start it with --allow-any-workspace to let sessions name one, or omit the workspace)',
        };
      }
      const check = checkWorkspace(requested, this.workspaceContext());
      return check.ok ? check : { ok: false, refusal: check.refusal.message };
    }
    const dir = join(this.opts.home, 'workspaces', sessionId);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    return { ok: true, path: dir };
  }

  /** Sends a session's pending items in order, one batch in flight at a time, until the outbox is empty. */
  private flush(sessionId: string): void {
    if (!this.ready || this.sending.has(sessionId)) return;
    const sup = this.sessions.get(sessionId);
    if (!sup || !sup.outbox.hasPending) return;
    this.sending.add(sessionId);
    void this.sendLoop(sup).finally(() => this.sending.delete(sessionId));
  }

  private async sendLoop(sup: SessionSupervisor): Promise<void> {
    while (this.ready && sup.outbox.hasPending) {
      const batch = sup.outbox.pending(MAX_BATCH_ITEMS);
      let reply: ItemsAck;
      try {
        reply = await this.socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('session.items', { sessionId: sup.sessionId, items: batch });
      } catch {
        continue; // no ack in time: the connection is probably gone; `ready` tells
      }
      if (reply.ok) {
        sup.outbox.ack(reply.lastSeq);
        continue;
      }
      this.log.error({ sessionId: sup.sessionId, error: reply.error }, 'server refused items; retrying');
      await new Promise((r) => setTimeout(r, SEND_RETRY_MS));
    }
  }

  private sendDelta(sessionId: string, delta: Delta): void {
    // Deltas are ephemeral: sent when connected, otherwise dropped (the completed item follows through the outbox).
    if (this.ready) this.socket.emit('session.delta', { sessionId, delta });
  }
}

export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderEnv {
  return {
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
    anthropicApiKey: env.ANTHROPIC_API_KEY,
    openaiBaseUrl: env.OPENAI_BASE_URL,
    openaiApiKey: env.OPENAI_API_KEY,
  };
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
