import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import type {
  DelegateResult,
  HarnessAdapter,
  HarnessEvent,
  HarnessSession,
  HarnessStartOptions,
  PermissionDecision,
  TurnInput,
  TurnOutcome,
} from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { ChildMessage, readMessages, writeMessage, type ChildStartOptions, type ParentMessage } from './ipc';

export interface YokeHarnessAdapterOptions {
  /**
   * The agent-process script. Default: `agent-process` next to this file — the compiled `.js` in `dist`, or the
   * `.ts` source when running from sources (jest), which is then run through the dev-only `ts-register.js` hook.
   */
  entry?: string;
  /** Per shell command, passed to the agent loop. */
  shellTimeoutMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
}

/** How to run `entry` with the current node binary: `.ts` sources go through the swc require hook. */
export function agentProcessCommand(entry: string): string[] {
  return entry.endsWith('.ts') ? ['-r', join(__dirname, 'ts-register.js'), entry] : [entry];
}

export function defaultAgentProcessEntry(): string {
  return require.resolve('./agent-process');
}

const STDERR_TAIL = 4000;

/** A launched (sandboxed) agent process gets only these of the runner's environment; the model comes in the start message. */
function launchEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'LANG', 'LC_ALL', 'TZ']) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  return env;
}

/** The built-in `yoke` harness: runs `AgentLoop` in a child process so a stuck tool or crash never takes the runner down. */
export class YokeHarnessAdapter implements HarnessAdapter {
  readonly name = 'yoke';
  readonly capabilities: HarnessCapabilities = {
    streaming: true,
    toolCalls: true,
    deny: true,
    ask: true,
    cost: true,
    interrupt: true,
    steer: false,
    resume: true,
    modelOverride: true,
  };

  constructor(private readonly config: YokeHarnessAdapterOptions = {}) {}

  async start(options: HarnessStartOptions): Promise<HarnessSession> {
    const entry = this.config.entry ?? defaultAgentProcessEntry();
    const child = options.launch
      ? options.launch(process.execPath, agentProcessCommand(entry), {
          cwd: options.workspace,
          env: launchEnv(),
          codePaths: [dirname(dirname(process.execPath)), join(__dirname, '..', '..')],
          home: options.stateDir,
        })
      : spawn(process.execPath, agentProcessCommand(entry), {
          cwd: options.workspace,
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
    const session = new YokeChildSession(child, options, this.config.killGraceMs ?? 2000);
    const { permission: _p, onEvent: _e, delegate: _d, launch: _l, ...plain } = options;
    await session.handshake({ ...plain, shellTimeoutMs: this.config.shellTimeoutMs });
    return session;
  }
}

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

class YokeChildSession implements HarnessSession {
  private stderr = '';
  private exited = false;
  private closing = false;
  private readonly exitPromise: Promise<void>;
  private startWaiter: Pending<void> | null = null;
  private turn: Pending<TurnOutcome> | null = null;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly options: HarnessStartOptions,
    private readonly killGraceMs: number,
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
      // A line that breaks the contract is never passed on as an event; it is reported as a notice instead.
      (line, error) => {
        const text = `the yoke agent process sent an invalid message (${error}): ${line}`.slice(0, 2000);
        this.deliver({ kind: 'item', item: { type: 'notice', level: 'error', text } });
      },
    );
  }

  handshake(options: ChildStartOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.send({ type: 'start', options });
    }).catch(async (e: unknown) => {
      await this.close();
      throw e;
    });
  }

  runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.exited || this.closing) return Promise.reject(new Error('the yoke agent process is not running'));
    if (this.turn) return Promise.reject(new Error('a turn is already running in this session'));
    return new Promise<TurnOutcome>((resolve, reject) => {
      this.turn = { resolve, reject };
      this.send({ type: 'turn', input });
    });
  }

  cancel(): void {
    this.send({ type: 'cancel' });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.exited) {
      this.child.stdin.end();
      this.killGroup('SIGTERM');
      const timer = setTimeout(() => this.killGroup('SIGKILL'), this.killGraceMs);
      await this.exitPromise;
      clearTimeout(timer);
    }
    // Whatever the agent left in its own group (it was the group leader) goes too.
    this.killGroup('SIGKILL');
  }

  private killGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is gone
    }
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
      case 'turn_done':
        this.settleTurn(message.outcome, null);
        return;
      case 'turn_error':
        this.settleTurn(null, new Error(message.message));
        return;
    }
  }

  /** Passes an event to the runner; if its handler throws, the turn fails rather than the process. */
  private deliver(event: HarnessEvent): void {
    try {
      this.options.onEvent(event);
    } catch (e) {
      this.settleTurn(null, new Error(`event handler failed: ${(e as Error).message}`));
      this.cancel();
    }
  }

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

  private settleTurn(outcome: TurnOutcome | null, error: Error | null): void {
    const turn = this.turn;
    this.turn = null;
    if (!turn) return;
    if (outcome) turn.resolve(outcome);
    else turn.reject(error ?? new Error('turn failed'));
  }

  private failAll(why: string): void {
    if (this.closing) {
      this.settleTurn({ stopReason: 'cancelled' }, null);
    } else {
      const detail = this.stderr.trim() ? `: ${this.stderr.trim()}` : '';
      this.settleTurn(null, new Error(`the yoke agent process exited (${why})${detail}`));
    }
    this.startWaiter?.reject(
      new Error(`the yoke agent process exited before starting (${why}): ${this.stderr.trim()}`),
    );
    this.startWaiter = null;
  }
}
