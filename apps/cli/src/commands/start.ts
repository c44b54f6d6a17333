import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Runner, RunnerOptions } from '@yoke/runner';
import { localCredential, registerLocalServer, unregisterLocalServer } from '../local-servers';
import { missingKeyFix, recordModelEnv, runnerProvider } from '../model-keys';
import { yokeHome } from '../server-discovery';
import { writeServerRecord } from '../server-record';

/*
 * What `yoke start` needs only once its server was started: the local runner with the sandbox and harnesses it
 * drives (most of this process's ~900 modules), the checks of the prerequisites, the API client and the logger. They
 * load while the server boots in its own process, instead of before it is started.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const load = {
  runner: () => require('@yoke/runner') as typeof import('@yoke/runner'),
  preflight: () => require('../start-preflight') as typeof import('../start-preflight'),
  apiClient: () => require('../api-client') as typeof import('../api-client'),
  protocol: () => require('@yoke/protocol') as typeof import('@yoke/protocol'),
  pino: () => require('pino') as typeof import('pino'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Where the server's entry point is: resolved as a file to run, never imported (the CLI does not link the server). */
export function serverEntry(file: 'main.js' | 'main.worker.js' = 'main.js'): string {
  return join(dirname(require.resolve('@yoke/server/package.json')), 'dist', file);
}

/**
 * V8 flags of the embedded server child. A 4 MB semi-space (V8's default grows it to 16 MB, i.e. 32 MB of young
 * generation kept resident for good after boot's allocations) costs more frequent scavenges, which a single local
 * user never notices; measured with bench/memory: -26 MB at idle.
 */
const EMBEDDED_SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * glibc's malloc settings for the embedded server child (other C libraries ignore them). Boot compiles Postgres'
 * WebAssembly and the server's code in large, short-lived blocks; by default glibc then raises its mmap threshold
 * (up to 32 MB) and keeps what was freed for reuse, resident for good. A fixed trim threshold of 64 KB (which also
 * keeps the mmap threshold at 128 KB) gives it back. Measured with bench/memory: the idle server 249–262 -> 217–231
 * MB; the CPU a start takes was not told apart from noise. A value already in the environment wins.
 */
const EMBEDDED_SERVER_MALLOC_ENV = { MALLOC_TRIM_THRESHOLD_: '65536' };

/**
 * V8 flags of the team-mode server: the same 4 MB semi-space (infra/docker/Dockerfile starts it so too). Measured
 * with bench/memory: idle 193–196 -> 166–171 MB; bench/fanout (100 viewers) showed no loss against the bare relay.
 */
const TEAM_SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];

/** The fd of the liveness pipe in the server child (stdin, stdout, stderr, then this one); the IPC channel is fd 4. */
const PARENT_PIPE_FD = 3;
/** How long a stopping server may take before it is killed. */
const SERVER_STOP_MS = 10_000;

/**
 * Runs the server as a child process and resolves with its URL once it says it listens (its `ServerReadyMessage` on
 * the IPC channel). The child gets one end of a pipe this process never writes to: when this process dies, however it
 * dies, the pipe closes and the server stops itself.
 */
export function spawnServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  // `YOKE_SERVER_NODE_FLAGS`: more Node flags for the server alone, for diagnosing a slow start (e.g. `--cpu-prof
  // --cpu-prof-dir=/tmp/prof`, which Node refuses in NODE_OPTIONS).
  const extra = (env.YOKE_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...EMBEDDED_SERVER_NODE_FLAGS, ...extra, serverEntry()], {
    env: { ...EMBEDDED_SERVER_MALLOC_ENV, ...env, YOKE_PARENT_PIPE: String(PARENT_PIPE_FD) },
    stdio: ['ignore', 'pipe', 'inherit', 'pipe', 'ipc'],
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (env.YOKE_QUIET !== '1') process.stdout.write(`${line}\n`);
  });
  return new Promise((resolve, reject) => {
    const settle = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (child.connected) child.disconnect(); // the channel carries nothing after this
    };
    const onMessage = (message: unknown) => {
      settle();
      const ready = load.protocol().ServerReadyMessage.safeParse(message);
      if (ready.success) {
        resolve({ child, url: ready.data.url });
      } else {
        child.kill('SIGTERM');
        reject(new Error(`the server sent an invalid ready message: ${z.prettifyError(ready.error)}`));
      }
    };
    const onExit = (code: number | null) => {
      settle();
      reject(new Error(`the server exited (code ${code}) before it listened`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const LOCK_FILE = 'yoke.lock';

const HomeLockSchema = z.object({
  pid: z.number().int().positive(),
  url: z.string(),
  startedAt: z.string(),
  /** Linux: the kernel's start time of `pid` (/proc/<pid>/stat), which tells the process apart from a later reuse. */
  procStart: z.string().optional(),
  serverPid: z.number().int().positive().optional(),
});
type HomeLockRecord = z.infer<typeof HomeLockSchema>;

function readHomeLock(file: string): HomeLockRecord | null {
  try {
    return HomeLockSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), or null where there is no /proc. */
function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether the lock's holder still runs: its pid is alive and, where /proc tells, is the same process (its start time
 * matches) running `yoke start` (its command line says so) — a pid reused by another program holds no home.
 */
function isHolderAlive(held: HomeLockRecord): boolean {
  try {
    process.kill(held.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!existsSync('/proc/self/cmdline')) return true; // no /proc here: trust the pid
  const started = procStartTime(held.pid);
  if (held.procStart && started !== held.procStart) return false;
  try {
    const argv = readFileSync(`/proc/${held.pid}/cmdline`, 'utf8').split('\0');
    const script = resolve(realpathOrSelf(`/proc/${held.pid}/cwd`), argv[1] ?? '');
    return (script === process.argv[1] || /yoke/i.test(argv.slice(0, 2).join(' '))) && argv.includes('start');
  } catch {
    return false; // it exited just now
  }
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Writes `record` to `file` whole or not at all: a temp file, then link (exclusive) or rename (replace). */
function writeAtomically(file: string, record: HomeLockRecord, exclusive: boolean): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  try {
    if (exclusive) linkSync(tmp, file);
    else renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The lock of a `yoke start` on its home (`<home>/yoke.lock`: pid, URL, start time). One server per home: a second
 * `yoke start` is refused with who holds it; a lock left by a process that is gone is taken over.
 */
class HomeLock {
  private readonly file: string;
  private record: HomeLockRecord;

  private constructor(home: string, record: HomeLockRecord) {
    this.file = join(home, LOCK_FILE);
    this.record = record;
  }

  static acquire(home: string, url: string): HomeLock {
    const lock = new HomeLock(home, {
      pid: process.pid,
      url,
      startedAt: new Date().toISOString(),
      procStart: procStartTime(process.pid) ?? undefined,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        writeAtomically(lock.file, lock.record, true);
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
      }
      const held = readHomeLock(lock.file);
      if (held && held.pid !== process.pid && isHolderAlive(held)) {
        throw new Error(
          `Yoke is already running for ${home} at ${held.url} (pid ${held.pid}); stop it first or use --home`,
        );
      }
      process.stderr.write(
        `yoke: taking over the stale lock ${lock.file}` +
          `${held ? ` (pid ${held.pid}, started ${held.startedAt}, is no longer running)` : ''}\n`,
      );
      rmSync(lock.file, { force: true });
    }
  }

  /** Records what is now known (the URL the server really listens on, its pid). */
  update(patch: Partial<Pick<HomeLockRecord, 'url' | 'serverPid'>>): void {
    this.record = { ...this.record, ...patch };
    writeAtomically(this.file, this.record, false);
  }

  /** Removes the lock if it is still this process's. */
  release(): void {
    if (readHomeLock(this.file)?.pid === process.pid) rmSync(this.file, { force: true });
  }
}

/**
 * `yoke start`: the embedded default. The server (embedded Postgres, in-process bus) runs as a child on loopback;
 * this process runs the local runner and supervises both. It holds its home's lock, tells the per-user index of local
 * servers about itself, and takes its server down with it however it ends.
 */
export async function startCommand(opts: { port?: string; home?: string }): Promise<void> {
  const env = process.env;
  const home = resolve(yokeHome(opts.home));
  const defaultHome = resolve(yokeHome());
  const port = opts.port ?? env.PORT ?? '7420';
  mkdirSync(home, { recursive: true });
  const lock = HomeLock.acquire(home, `http://127.0.0.1:${port}`);
  let registered: string | null = null;
  // Whatever ends this process normally (a stop, the server dying, a failed start) leaves nothing behind.
  process.once('exit', () => {
    rmSync(join(home, 'server.json'), { force: true });
    if (registered) unregisterQuietly(registered);
    lock.release();
  });

  // the model keys are the runner's only
  const { ANTHROPIC_API_KEY: _a, OPENAI_API_KEY: _o, GEMINI_API_KEY: _g, ...serverEnv } = env;
  const server = spawnServer({
    ...serverEnv,
    YOKE_EMBEDDED: '1',
    YOKE_HOME: home,
    HOST: '127.0.0.1',
    PORT: port,
    YOKE_QUIET: '1',
  });
  // Checked while the server boots, reported once it runs: a problem here is a warning, never a refusal to start.
  const { formatPreflightWarnings, startPreflight } = load.preflight();
  const preflight = startPreflight(home, defaultHome, env).catch((err: unknown) => [
    { problem: `could not check the prerequisites: ${(err as Error).message}`, fix: 'yoke doctor' },
  ]);
  const runnerModule = load.runner();
  const { child, url } = await server;
  lock.update({ url, serverPid: child.pid });
  const secret = localCredential(home);
  writeServerRecord(home, { url, pid: child.pid, modelEnv: recordModelEnv(env) });
  const log = load.pino()({ level: env.LOG_LEVEL ?? 'info' });
  try {
    registerLocalServer({ url, pid: process.pid, home });
    registered = url;
  } catch (err) {
    log.warn({ err }, 'not listed in the index of local servers: `yoke open` and the CLI will not find this one');
  }

  let runner: Runner | null = null;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await runner?.stop();
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_MS);
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    clearTimeout(killer);
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  child.once('exit', (code) => {
    if (stopping) return;
    log.error({ code }, 'the server stopped');
    void (runner?.stop() ?? Promise.resolve()).then(() => process.exit(code ?? 1));
  });

  try {
    // The keys of this process's environment, else those `yoke keys set` stores in the home, read at each session.
    runner = await startLocalRunner(runnerModule, join(home, 'runner'), url, secret, log, {
      provider: runnerProvider(home, env),
      missingKeyFix: missingKeyFix(home, defaultHome, 'yoke start'),
    });
  } catch (err) {
    stopping = true;
    child.kill('SIGTERM'); // this process then ends with its server, the error reported
    throw err;
  }
  process.stdout.write(
    `\nYoke is running at ${secret ? `${url}/?token=${encodeURIComponent(secret)}` : url}\n` +
      '  yoke run agent.yaml "your prompt"   to start a session\n' +
      '  yoke open                           to open the web UI again\n' +
      '  yoke doctor                         to check everything a turn needs\n' +
      '  Ctrl-C to stop\n\n',
  );
  process.stderr.write(formatPreflightWarnings(await preflight));
}

/** The local runner, in this process; enrolled with the server on first start (or when the server's URL changed). */
async function startLocalRunner(
  { enrol, loadIdentity, Runner }: typeof import('@yoke/runner'),
  home: string,
  url: string,
  secret: string | null,
  log: Logger,
  keys: Pick<RunnerOptions, 'provider' | 'missingKeyFix'>,
): Promise<Runner> {
  let identity = loadIdentity(home);
  if (!identity || identity.server !== url) {
    const { ApiClient } = load.apiClient();
    const { Enrolment } = load.protocol();
    const api = new ApiClient(url, secret ?? undefined);
    const { token } = await api.request('POST', '/runners/enrolments', Enrolment, { name: 'local' });
    identity = await enrol({ server: url, token, name: 'local', home });
  }
  const runner = new Runner({ home, identity, log, allowAnyWorkspace: true, ...keys });
  runner.start();
  return runner;
}

function unregisterQuietly(url: string): void {
  try {
    unregisterLocalServer(url);
  } catch {
    // the index directory became unusable: its entry dies with this pid anyway
  }
}

/** `yoke server` / `yoke worker`: team mode in the foreground (DATABASE_URL and REDIS_URL from the environment). */
export async function teamProcessCommand(which: 'server' | 'worker'): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error('team mode needs DATABASE_URL (and REDIS_URL)');
  if (which === 'worker' && !process.env.REDIS_URL) throw new Error('the worker needs REDIS_URL');
  const entry = serverEntry(which === 'server' ? 'main.js' : 'main.worker.js');
  const flags = which === 'server' ? TEAM_SERVER_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, entry], {
    env: { ...process.env, YOKE_EMBEDDED: '0' },
    stdio: 'inherit',
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => child.kill(sig));
  process.exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}
