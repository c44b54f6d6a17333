import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { directLauncher, type ProcessLauncher } from '../launch';

const STDERR_TAIL = 4000;

export interface CliProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  /** The whole environment of the CLI: nothing of the runner's own environment leaks in unless listed here. */
  env: Record<string, string>;
  /** How long `kill()` waits after SIGTERM before SIGKILL. */
  killGraceMs: number;
  /** How the CLI starts: the session's launcher (the runner's is sandboxed). Default: `directLauncher`. */
  launch?: ProcessLauncher;
  /** The CLI's private home (`$HOME`); inside a sandbox, the only host directory besides the workspace it may write. */
  home?: string;
  /** Host paths holding the CLI's own code (bound read-only inside a sandbox). */
  codePaths?: string[];
}

/**
 * A harness CLI speaking JSON lines on stdio, in its own process group. Lines are split on `\n` only (JSON strings may
 * hold U+2028/2029, which `readline` would split on). `kill()` ends the whole tree, including descendants that moved
 * to their own process group or session.
 */
export class CliProcess {
  private stderr = '';
  private exited = false;
  readonly exit: Promise<string>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly killGraceMs: number;

  constructor(options: CliProcessOptions, onLine: (line: string) => void) {
    this.child = (options.launch ?? directLauncher)(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      home: options.home,
      codePaths: options.codePaths,
    });
    this.killGraceMs = options.killGraceMs;
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

function signalAll(groupLeader: number, pids: Set<number>, signal: NodeJS.Signals): void {
  const send = (target: number): void => {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  };
  send(-groupLeader);
  for (const pid of pids) send(pid);
}

/** Every live descendant of `root`, from /proc (empty where there is no /proc; the process group still gets killed). */
export function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Calls `onLine` for each non-empty line of a UTF-8 stream (CRLF tolerated; a last unterminated line counts). */
export function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  const flush = (final: boolean): void => {
    let at: number;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at).replace(/\r$/, '');
      buffer = buffer.slice(at + 1);
      if (line.trim()) onLine(line);
    }
    if (final && buffer.trim()) onLine(buffer.replace(/\r$/, ''));
  };
  stream.on('data', (chunk: Buffer) => {
    buffer += decoder.write(chunk);
    flush(false);
  });
  stream.on('end', () => {
    buffer += decoder.end();
    flush(true);
  });
}

/** Rejects with `what timed out` when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
