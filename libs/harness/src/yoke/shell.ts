import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface ShellOptions {
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called with each chunk of combined stdout/stderr while the command runs (stops after `maxStreamChars`). */
  onOutput?: (text: string) => void;
  /** Characters kept for the result: the head and the tail of the output, the middle elided. */
  maxOutputChars?: number;
  maxStreamChars?: number;
  /** The command's environment; default: this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface ShellResult {
  /** null when the process was killed by a signal (timeout, cancel). */
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  cancelled: boolean;
}

export const DEFAULT_SHELL_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024;
const DEFAULT_MAX_STREAM = 256 * 1024;
/** How long to wait for stdout/stderr to close after the shell itself exited (background jobs may hold them). */
const DRAIN_MS = 200;

/** Process groups of every shell started by this process, killed by `killAllShells` on shutdown. */
const groups = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every shell process group this process started (and whatever they left running in the background). */
export function killAllShells(): void {
  for (const pid of groups) killGroup(pid);
  groups.clear();
}

/** Keeps the first and last part of a long output, eliding the middle. */
class OutputBuffer {
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(text: string): void {
    const headMax = Math.floor(this.max / 3);
    if (this.head.length < headMax) {
      const take = text.slice(0, headMax - this.head.length);
      this.head += take;
      text = text.slice(take.length);
    }
    this.tail += text;
    const tailMax = this.max - headMax;
    if (this.tail.length > tailMax) {
      this.dropped += this.tail.length - tailMax;
      this.tail = this.tail.slice(this.tail.length - tailMax);
    }
  }

  toString(): string {
    return this.dropped > 0
      ? `${this.head}\n[... ${this.dropped} characters of output omitted ...]\n${this.tail}`
      : this.head + this.tail;
  }
}

/** Runs `bash -lc command` in its own process group; kills the whole group on timeout or abort. */
export function runShell(command: string, options: ShellOptions): Promise<ShellResult> {
  const maxStream = options.maxStreamChars ?? DEFAULT_MAX_STREAM;
  return new Promise((resolve) => {
    const buffer = new OutputBuffer(options.maxOutputChars ?? DEFAULT_MAX_OUTPUT);
    let streamed = 0;
    let timedOut = false;
    let cancelled = false;
    let settled = false;
    const child = spawn('bash', ['-lc', command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid !== undefined) groups.add(pid);

    const onText = (text: string): void => {
      if (text === '') return;
      buffer.push(text);
      if (options.onOutput && streamed < maxStream) {
        const part = text.slice(0, maxStream - streamed);
        streamed += part.length;
        options.onOutput(part);
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer) => onText(decoder.write(chunk)));
      stream.on('end', () => onText(decoder.end()));
    }

    const kill = (): void => {
      if (pid !== undefined) killGroup(pid);
    };
    const onAbort = (): void => {
      cancelled = true;
      kill();
    };
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);

    const finish = (exitCode: number | null, extra?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      let output = buffer.toString();
      if (extra) output += `${output && !output.endsWith('\n') ? '\n' : ''}${extra}`;
      if (timedOut) output += `\n[timed out after ${Math.round(options.timeoutMs / 1000)}s; process killed]`;
      if (cancelled) output += '\n[cancelled; process killed]';
      resolve({ exitCode: timedOut || cancelled ? null : exitCode, output, timedOut, cancelled });
    };

    child.on('error', (err) => finish(null, `failed to start bash: ${err.message}`));
    child.on('exit', (code) => {
      const done = (): void => finish(code);
      child.on('close', done);
      setTimeout(done, DRAIN_MS).unref();
    });
  });
}
