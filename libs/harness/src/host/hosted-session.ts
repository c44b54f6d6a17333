import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type {
  DelegateResult,
  HarnessEvent,
  HarnessSession,
  HarnessStartOptions,
  PermissionDecision,
  TurnInput,
  TurnOutcome,
} from '../adapter';
import { descendantsOf } from '../codex/cli-process';
import { directLauncher } from '../launch';
import { ChildMessage, readMessages, writeMessage, type ChildStartOptions, type ParentMessage } from '../yoke/ipc';

export interface HostedProcessOptions {
  /** Shown in errors: `the openai-agents process exited …`. */
  name: string;
  /** The host script (`.js`, or `.ts` from sources, run through the dev-only require hook). */
  entry: string;
  /** Extra arguments after the script (adapter-specific configuration; never secrets). */
  args?: string[];
  /** The child's whole environment besides HOME. */
  env: Record<string, string>;
  /** The private home directory (under the session's stateDir). */
  home: string;
  /** Extra host paths the process needs to read (beyond node, this package and its node_modules). */
  codePaths?: string[];
  killGraceMs: number;
  startTimeoutMs: number;
  shellTimeoutMs?: number;
}

const STDERR_TAIL = 4000;

/** How to run `entry` with the current node binary: `.ts` sources go through the swc require hook. */
export function agentProcessCommand(entry: string): string[] {
  return entry.endsWith('.ts') ? ['-r', join(__dirname, '..', 'yoke', 'ts-register.js'), entry] : [entry];
}

/** What a hosted session needs to know of its process besides the start options. */
export type HostedProcessLimits = Pick<
  HostedProcessOptions,
  'name' | 'killGraceMs' | 'startTimeoutMs' | 'shellTimeoutMs'
>;

/** The directories a hosted node process reads its code from: node itself, this package, and node_modules. */
export function hostCodePaths(): string[] {
  const paths = new Set<string>([dirname(dirname(process.execPath)), join(__dirname, '..', '..')]);
  for (const dir of module.paths) if (dir.endsWith('node_modules')) paths.add(dir);
  return [...paths];
}

/**
 * Starts `entry` (a node script speaking the `yoke/ipc` protocol, e.g. an SDK agent loop) through the session's
 * launcher and returns a session driving it. The process is its own group leader; closing it ends the whole tree.
 */
export async function startHostedSession(
  options: HarnessStartOptions,
  host: HostedProcessOptions,
): Promise<HarnessSession> {
  const launch = options.launch ?? directLauncher;
  const child = launch(process.execPath, [...agentProcessCommand(host.entry), ...(host.args ?? [])], {
    cwd: options.workspace,
    env: { ...host.env, HOME: host.home },
    codePaths: [...hostCodePaths(), ...(host.codePaths ?? [])],
    home: host.home,
    // An SDK host runs its children (the SDK's own CLI, tools) asynchronously: it may host the network bridge.
    hostsBridge: true,
  });
  return HostedSession.start(child, options, host);
}

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/**
 * Drives one agent process speaking the `yoke/ipc` protocol (the yoke agent loop, SDK hosts): turns, permission and
 * delegate requests answered by the runner's hooks, cancel, and close ending the process's whole tree.
 */
export class HostedSession implements HarnessSession {
  /** Wraps a started process and completes the start handshake (closing the process if it fails). */
  static async start(
    child: ChildProcessWithoutNullStreams,
    options: HarnessStartOptions,
    host: HostedProcessLimits,
  ): Promise<HostedSession> {
    const session = new HostedSession(child, options, host);
    const { permission: _p, onEvent: _e, delegate: _d, launch: _l, ...plain } = options;
    await session.handshake({ ...plain, shellTimeoutMs: host.shellTimeoutMs });
    return session;
  }

  private stderr = '';
  private exited = false;
  private closing = false;
  private readonly exitPromise: Promise<void>;
  private startWaiter: Pending<void> | null = null;
  private turn: Pending<TurnOutcome> | null = null;
  /** `steer` messages the process has not answered yet. */
  private readonly steers = new Map<string, (accepted: boolean) => void>();

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly options: HarnessStartOptions,
    private readonly host: HostedProcessLimits,
  ) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
    });
    child.stdin.on('error', () => undefined);
    this.exitPromise = new Promise((resolve) => {
      let done = false;
      const onGone = (why: string): void => {
        if (done) return;
        done = true;
        this.exited = true;
        this.failAll(why);
        resolve();
      };
      child.on('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `code ${code}`));
      child.on('error', (err) => onGone(err.message));
    });
    readMessages(
      child.stdout,
      ChildMessage,
      (message) => this.onMessage(message),
      (line, error) => {
        const text = `the ${host.name} process sent an invalid message (${error}): ${line}`.slice(0, 2000);
        this.deliver({ kind: 'item', item: { type: 'notice', level: 'error', text } });
      },
    );
  }

  handshake(options: ChildStartOptions): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      timer = setTimeout(
        () => reject(new Error(`starting ${this.host.name} timed out after ${this.host.startTimeoutMs} ms`)),
        this.host.startTimeoutMs,
      );
      this.send({ type: 'start', options });
    })
      .finally(() => clearTimeout(timer))
      .catch(async (e: unknown) => {
        await this.close();
        throw e;
      });
  }

  /** The process id of the host (the group leader). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.exited || this.closing) return Promise.reject(new Error(`the ${this.host.name} process is not running`));
    if (this.turn) return Promise.reject(new Error('a turn is already running in this session'));
    return new Promise<TurnOutcome>((resolve, reject) => {
      this.turn = { resolve, reject };
      this.send({ type: 'turn', input });
    });
  }

  cancel(): void {
    this.send({ type: 'cancel' });
  }

  /** The process decides: its loop takes the message into the running turn, or answers false. */
  steer(input: TurnInput): Promise<boolean> {
    if (this.exited || this.closing || !this.turn) return Promise.resolve(false);
    const id = randomUUID();
    return new Promise<boolean>((resolve) => {
      this.steers.set(id, resolve);
      this.send({ type: 'steer', id, input });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const pid = this.child.pid;
    const tree = pid === undefined ? [] : [pid, ...descendantsOf(pid)];
    if (!this.exited) {
      this.child.stdin.end();
      this.signal(tree, 'SIGTERM');
      const timer = setTimeout(
        () => this.signal([...tree, ...(pid ? descendantsOf(pid) : [])], 'SIGKILL'),
        this.host.killGraceMs,
      );
      await this.exitPromise;
      clearTimeout(timer);
    }
    // Whatever is left of the tree (its own group or not) goes too.
    this.signal([...tree, ...(pid ? descendantsOf(pid) : [])], 'SIGKILL');
  }

  private signal(pids: number[], signal: NodeJS.Signals): void {
    const send = (target: number): void => {
      try {
        process.kill(target, signal);
      } catch {
        // already gone
      }
    };
    if (this.child.pid !== undefined) send(-this.child.pid);
    for (const pid of pids) send(pid);
  }

  private send(message: ParentMessage): void {
    if (!this.exited) writeMessage(this.child.stdin, message);
  }

  private onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        this.startWaiter?.resolve();
        this.startWaiter = null;
        return;
      case 'start_failed':
        this.startWaiter?.reject(new Error(message.message));
        this.startWaiter = null;
        return;
      case 'event':
        this.deliver(message.event);
        return;
      case 'permission':
        void this.askPermission(message.id, message.request);
        return;
      case 'delegate':
        void this.runDelegate(message.id, message.request);
        return;
      case 'steer_result':
        this.steers.get(message.id)?.(message.accepted);
        this.steers.delete(message.id);
        return;
      case 'turn_done':
        this.settleTurn(message.outcome, null);
        return;
      case 'turn_error':
        this.settleTurn(null, new Error(message.message));
        return;
    }
  }

  private deliver(event: HarnessEvent): void {
    try {
      this.options.onEvent(event);
    } catch (e) {
      this.settleTurn(null, new Error(`event handler failed: ${(e as Error).message}`));
      this.cancel();
    }
  }

  /** The runner runs the sub-agent; without a delegate hook (or when it throws) the agent gets the failure. */
  private async runDelegate(
    id: string,
    request: Extract<ChildMessage, { type: 'delegate' }>['request'],
  ): Promise<void> {
    let result: DelegateResult;
    if (!this.options.delegate) {
      result = { ok: false, error: 'delegation is not available in this session' };
    } else {
      try {
        result = await this.options.delegate(request);
      } catch (e) {
        result = { ok: false, error: (e as Error).message };
      }
    }
    this.send({ type: 'delegate_result', id, result });
  }

  /** Fails closed: a hook that throws denies. */
  private async askPermission(
    id: string,
    request: Extract<ChildMessage, { type: 'permission' }>['request'],
  ): Promise<void> {
    let decision: PermissionDecision;
    try {
      decision = await this.options.permission(request);
    } catch (e) {
      decision = { behavior: 'deny', reason: `permission check failed: ${(e as Error).message}` };
    }
    this.send({ type: 'permission_result', id, decision });
  }

  private settleTurn(outcome: TurnOutcome | null, error: Error | null): void {
    const turn = this.turn;
    this.turn = null;
    if (!turn) return;
    if (outcome) turn.resolve(outcome);
    else turn.reject(error ?? new Error('turn failed'));
  }

  private failAll(why: string): void {
    for (const resolve of this.steers.values()) resolve(false);
    this.steers.clear();
    if (this.closing) {
      this.settleTurn({ stopReason: 'cancelled' }, null);
    } else {
      const detail = this.stderr.trim() ? `: ${this.stderr.trim()}` : '';
      this.settleTurn(null, new Error(`the ${this.host.name} process exited (${why})${detail}`));
    }
    this.startWaiter?.reject(
      new Error(`the ${this.host.name} process exited before starting (${why}): ${this.stderr.trim()}`),
    );
    this.startWaiter = null;
  }
}
