import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { descendantsOf, readLines } from '../codex/cli-process';
import { directLauncher, type LaunchOptions, type ProcessLauncher } from '../launch';

const STDERR_TAIL = 4000;

/**
 * A CLI speaking JSON lines on stdio, started through a `ProcessLauncher` (so the runner can sandbox it) as the leader
 * of its own process group. Lines are split on `\n` only (JSON strings may hold U+2028/2029). `kill()` ends the whole
 * tree, including descendants that left the group.
 */
export class LaunchedProcess {
  private stderr = '';
  private exited = false;
  readonly exit: Promise<string>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(
    command: string,
    args: string[],
    options: LaunchOptions & { launch?: ProcessLauncher; killGraceMs: number },
    onLine: (line: string) => void,
  ) {
    const { launch = directLauncher, killGraceMs, ...launchOptions } = options;
    this.killGraceMs = killGraceMs;
    this.child = launch(command, args, launchOptions);
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
    });
    this.child.stdin.on('error', () => undefined);
    readLines(this.child.stdout, onLine);
    this.exit = new Promise((resolve) => {
      const gone = (why: string): void => {
        this.exited = true;
        resolve(why);
      };
      this.child.once('exit', (code, signal) => gone(signal ? `signal ${signal}` : `code ${code}`));
      this.child.once('error', (err) => gone(err.message));
    });
  }

  private readonly killGraceMs: number;

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isRunning(): boolean {
    return !this.exited;
  }

  /** The last few KB the CLI wrote to stderr, trimmed. */
  get stderrTail(): string {
    return this.stderr.trim();
  }

  write(message: unknown): void {
    if (!this.exited && this.child.stdin.writable) this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Live descendants of the CLI (the tools it runs). */
  descendants(): number[] {
    return this.child.pid === undefined || this.exited ? [] : descendantsOf(this.child.pid);
  }

  /** SIGTERM to the tree, SIGKILL after the grace period to whatever is left (and to the group in any case). */
  async kill(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    const tree = new Set([pid, ...descendantsOf(pid)]);
    this.child.stdin.end();
    signalAll(pid, tree, 'SIGTERM');
    const timer = setTimeout(
      () => signalAll(pid, new Set([...tree, ...descendantsOf(pid)]), 'SIGKILL'),
      this.killGraceMs,
    );
    await this.exit;
    clearTimeout(timer);
    signalAll(pid, tree, 'SIGKILL');
  }
}

/** Sends `signal` to the process group of `groupLeader` (when given) and to each of `pids`; gone processes are skipped. */
export function signalAll(groupLeader: number | null, pids: Iterable<number>, signal: NodeJS.Signals): void {
  const send = (target: number): void => {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  };
  if (groupLeader !== null) send(-groupLeader);
  for (const pid of pids) send(pid);
}
