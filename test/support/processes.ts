import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(__dirname, '../..');
export const SERVER_MAIN = join(ROOT, 'apps/server/dist/main.js');
export const WORKER_MAIN = join(ROOT, 'apps/server/dist/main.worker.js');
export const RUNNER_MAIN = join(ROOT, 'apps/runner/dist/main.js');
export const CLI_MAIN = join(ROOT, 'apps/cli/dist/main.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** A child process whose JSON log lines are kept, so tests can wait for what it said. */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (process.env.YOKE_TEST_VERBOSE) process.stderr.write(`[${child.pid}] ${line}\n`);
        this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
      });
    }
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  waitForLine(test: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const found = this.lines.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`timed out waiting for a log line; last lines:\n${this.lines.slice(-15).join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({ test, resolve: (l) => (clearTimeout(timer), res(l)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        rej(
          new Error(`the process exited (${code}) before the expected log line:\n${this.lines.slice(-15).join('\n')}`),
        );
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    // A process that does not stop on a polite signal is killed, so a stuck shutdown cannot hold the run.
    const timer = signal === 'SIGKILL' ? null : setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    if (timer) clearTimeout(timer);
  }
}

export function spawnNode(entry: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Proc {
  return new Proc(
    spawn(process.execPath, [...nodeArgs, entry, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
  /** Stops the command (SIGTERM) once its output satisfies this: for commands that follow a session forever. */
  until?: (stdout: string) => boolean,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (until?.(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
