import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type InboxAck, type InboxEntry, InboxEntry as InboxEntrySchema, type SessionStartSpec } from '@yoke/protocol';
import {
  createHarnessAdapter,
  type HarnessAdapter,
  type ModelKeyVar,
  type PermissionHook,
  type ProviderEnv,
} from '@yoke/harness';
import { ChildSessions } from './child-sessions';
import type { RunnerIdentityFile } from './identity';
import { Outbox } from './outbox';
import { OutboxSender } from './outbox-sender';
import { RunnerConnection } from './runner-connection';
import { SessionSupervisor, type SupervisorDeps } from './session-supervisor';
import { runnerSandboxFactory, type SessionSandboxFactory, sandboxModeFromEnv } from './sandbox';
import { workspaceFor, workspaceRefusal } from './workspace-placement';
import { serveWorkspaceFiles } from './workspace-files';
import { copyWorkspace, describeCopy } from './workspace-fork';
import { startTracing, stopTracing } from './telemetry';

export interface RunnerOptions {
  home: string;
  identity: RunnerIdentityFile;
  log: Logger;
  provider?: ProviderEnv;
  /**
   * What fixes a missing model key where this runner runs, appended to the failed turn's error (e.g. the CLI's
   * `yoke keys set openai`). Default: set the variable in the runner's environment.
   */
  missingKeyFix?: (name: ModelKeyVar) => string;
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

/**
 * The runner agent: keeps one socket to its server (reconnecting with backoff), applies inputs to its sessions,
 * and streams their items from the on-disk outboxes until the server acknowledged each one.
 */
export class Runner {
  private readonly sessions = new Map<string, SessionSupervisor>();
  private readonly connection: RunnerConnection;
  private readonly sender: OutboxSender;
  private readonly children: ChildSessions;
  private readonly log: Logger;
  private readonly deps: Omit<SupervisorDeps, 'dir'>;

  constructor(private readonly opts: RunnerOptions) {
    this.log = opts.log;
    this.connection = new RunnerConnection(opts, this.sessions, {
      onReady: () => {
        for (const id of this.sessions.keys()) this.sender.flush(id);
      },
      onRefused: () => void this.stop(),
    });
    this.sender = new OutboxSender(this.connection, this.sessions, opts.log);
    this.children = new ChildSessions(this.connection, this.sessions, opts.log);
    const provider = opts.provider ?? providerFromEnv();
    this.deps = {
      adapterFor: opts.adapterFor ?? createHarnessAdapter,
      provider,
      sandbox: opts.sandbox ?? runnerSandboxFactory({ provider, mode: sandboxModeFromEnv() }),
      permission: opts.permission ?? (async () => ({ behavior: 'allow' })),
      onItems: (id) => this.sender.flush(id),
      onDelta: (id, delta) => this.sender.sendDelta(id, delta),
      log: opts.log,
      delegate: (parentId, request, traceparent) => this.children.delegate(parentId, request, traceparent),
      onTurnEnd: (id, result) => this.children.turnEnded(id, result),
      onCancel: (id, actor) => this.children.cancelled(id, actor),
      checkWorkspace: (workspace) => workspaceRefusal(opts, workspace),
      missingKeyFix: opts.missingKeyFix,
    };
    mkdirSync(this.sessionsDir, { recursive: true });
    this.resumeSessions();
    const { socket } = this.connection;
    serveWorkspaceFiles(socket, (id) => this.sessions.get(id)?.workspace ?? null);
    socket.on('session.input', (raw, ack) => {
      void this.onInput(raw).then((reply) => {
        if (typeof ack === 'function') ack(reply);
      });
    });
  }

  get connected(): boolean {
    return this.connection.isReady;
  }

  get runnerId(): string {
    return this.opts.identity.runnerId;
  }

  start(): void {
    startTracing();
    this.connection.start();
  }

  async stop(): Promise<void> {
    this.connection.stop();
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
    await stopTracing();
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

  /** An input from the server's inbox: a `start` makes the session (placing its workspace), the rest apply to it. */
  private async onInput(raw: unknown): Promise<InboxAck> {
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
          : workspaceFor(this.opts, entry.input.spec.workspace, entry.sessionId);
        // A fork: the server holds items 1..baseSeq already; this session's own items follow them.
        if (entry.input.spec.baseSeq) Outbox.startAfter(dir, entry.input.spec.baseSeq);
        // A refused workspace still makes a session (its items say why), but one that never starts a harness.
        sup = placed.ok
          ? SessionSupervisor.create(entry.input.spec, placed.path, { ...this.deps, dir })
          : SessionSupervisor.createRefused(entry.input.spec, placed.refusal, { ...this.deps, dir });
        this.sessions.set(entry.sessionId, sup);
        if (placed.ok && entry.input.spec.forkFrom) this.copyForkWorkspace(entry.input.spec, placed.path, sup);
        if (placed.ok) {
          const { harness } = entry.input.spec;
          this.log.info({ sessionId: entry.sessionId, harness, workspace: placed.path }, 'session started');
        } else {
          this.log.warn({ sessionId: entry.sessionId, refusal: placed.refusal }, 'workspace refused');
        }
      }
      const applied = sup.apply(entry);
      // Acknowledged once durable: an input the server counts as delivered survives a crash of this process.
      await sup.durable();
      return { ok: true, applied };
    } catch (err) {
      this.log.error({ err, sessionId: entry.sessionId }, 'could not apply input');
      return { ok: false, error: { code: 'internal', message: 'the runner could not apply the input' } };
    }
  }

  /**
   * A fork started on the runner of the session it came from: that session's workspace, as it is now, becomes the
   * fork's (only a session this runner holds, and only into the fork's own fresh directory).
   */
  private copyForkWorkspace(spec: SessionStartSpec, workspace: string, sup: SessionSupervisor): void {
    const source = spec.forkFrom ? this.sessions.get(spec.forkFrom)?.workspace : null;
    if (!source || spec.workspace) return;
    const copy = copyWorkspace(source, workspace, spec.sessionId);
    this.log.info({ sessionId: spec.sessionId, forkFrom: spec.forkFrom, copy }, 'fork workspace copied');
    const { level, text } = describeCopy(copy);
    sup.notify(level, text);
  }
}

export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderEnv {
  return {
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
    anthropicApiKey: env.ANTHROPIC_API_KEY,
    openaiBaseUrl: env.OPENAI_BASE_URL,
    openaiApiKey: env.OPENAI_API_KEY,
    geminiBaseUrl: env.GOOGLE_GEMINI_BASE_URL,
    geminiApiKey: env.GEMINI_API_KEY,
  };
}
