import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import {
  API_PREFIX,
  type Enrolment,
  type EnrolReply,
  type InboxEntry,
  NS_RUNNER,
  NS_WEB,
  PROTOCOL_VERSION,
  type RunnerView,
} from '@yoke/protocol';
import { createTestDatabase, expectEventually, type Mode, REDIS_URL, uniqueName } from './env';
import { freePort, Proc, RUNNER_MAIN, SERVER_MAIN, spawnNode, tempDir, WORKER_MAIN } from './processes';

export interface Stack {
  mode: Mode;
  url: string;
  /** The API token of the bootstrap admin (team) or the local secret (embedded). */
  token: string;
  /** The server's YOKE_HOME. */
  home: string;
  /** Environment for CLI invocations against this stack. */
  cliEnv: NodeJS.ProcessEnv;
  server: Proc;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: T }>;
  restartServer(): Promise<void>;
  /** The BullMQ worker process (team mode); embedded mode runs jobs in the server. */
  startWorker(): Promise<Proc>;
  /** Another server process on the same Postgres and Redis (team mode): a second replica behind a balancer. */
  startReplica(): Promise<{ url: string; proc: Proc; webSocket(): Socket; api: Stack['api'] }>;
  enrolmentToken(): Promise<string>;
  startRunner(opts?: { home?: string; env?: NodeJS.ProcessEnv }): Promise<RunnerProc>;
  webSocket(token?: string | null): Socket;
  rawRunnerSocket(credential: string): Socket;
  /**
   * A runner played by the test on a raw socket: enrolled, connected, said hello and counted online by the server.
   * `onInput` answers each input the server hands it; without it, inputs go unanswered.
   */
  connectRawRunner(opts?: { name?: string; onInput?: RawRunnerInput }): Promise<{ socket: Socket; runnerId: string }>;
  stop(): Promise<void>;
}

/** What a raw runner does with an input the server hands it (`ack` answers the server). */
export type RawRunnerInput = (entry: InboxEntry, ack: (reply: unknown) => void) => void;

export interface RunnerProc {
  home: string;
  proc: Proc;
  credential: string;
  runnerId: string;
  restart(): Promise<void>;
}

/** Longer than any request a test makes on a loaded machine, shorter than a hook's timeout. */
const API_TIMEOUT_MS = 60_000;

const CLEAN_ENV: NodeJS.ProcessEnv = {
  DATABASE_URL: undefined,
  REDIS_URL: undefined,
  YOKE_TOKEN: undefined,
  YOKE_SERVER: undefined,
};

function envWithout(overrides: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries({ ...CLEAN_ENV, ...overrides })) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Removes every Redis key a test run made (socket.io adapter channels hold none; BullMQ keys do). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A real server (team: Postgres + Redis; embedded: PGlite, in-process bus) on a free loopback port. */
export async function startStack(mode: Mode, extraEnv: NodeJS.ProcessEnv = {}): Promise<Stack> {
  const port = await freePort();
  const home = tempDir('yoke-server');
  const db = mode === 'team' ? await createTestDatabase() : null;
  const teamToken = mode === 'team' ? `ykt_${randomBytes(24).toString('base64url')}` : undefined;
  const env = envWithout({
    PORT: String(port),
    HOST: '127.0.0.1',
    YOKE_HOME: home,
    LOG_LEVEL: 'info',
    ...(mode === 'team'
      ? {
          DATABASE_URL: db!.url,
          REDIS_URL,
          REDIS_PREFIX: uniqueName('yoke'),
          YOKE_EMBEDDED: '0',
          YOKE_BOOTSTRAP_TOKEN: teamToken,
        }
      : { YOKE_EMBEDDED: '1' }),
    ...extraEnv,
  });
  const url = `http://127.0.0.1:${port}`;
  const launch = async (port_ = port) => {
    const p = new Proc(spawnNode(SERVER_MAIN, [], { ...env, PORT: String(port_) }).child);
    await p.waitForLine((l) => l.includes('yoke server listening'), 60_000);
    return p;
  };
  let server = await launch();
  // Embedded mode: the local user is whoever holds the secret the server keeps in its home (0600).
  const token = teamToken ?? readFileSync(join(home, 'local-token'), 'utf8').trim();
  const runners: RunnerProc[] = [];
  const sockets: Socket[] = [];

  const replicas: Proc[] = [];
  const apiAt =
    (base: string): Stack['api'] =>
    async (method, path, body, tok) => {
      const t = tok === null ? undefined : (tok ?? token);
      // A request the server never answers fails the test with the server's last words, not a hook timeout.
      const res = await fetch(`${base}${API_PREFIX}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(t ? { authorization: `Bearer ${t}` } : {}),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      }).catch((err: Error) => {
        throw new Error(
          `${method} ${path} got no answer (${err.message}); the server's last lines:\n${server.lines.slice(-20).join('\n')}`,
        );
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as never };
    };
  const api = apiAt(url);
  const webSocketAt = (base: string, tok?: string | null) => {
    const t = tok === null ? undefined : (tok ?? token);
    const s = io(`${base}${NS_WEB}`, { auth: t ? { token: t } : {}, transports: ['websocket'], reconnection: true });
    sockets.push(s);
    return s;
  };

  const stack: Stack = {
    mode,
    url,
    token,
    home,
    cliEnv: envWithout({ YOKE_SERVER: url, YOKE_TOKEN: token, YOKE_HOME: tempDir('yoke-cli') }),
    get server() {
      return server;
    },
    api,
    async restartServer() {
      await server.kill('SIGTERM');
      server = await launch();
    },
    async enrolmentToken() {
      const r = await api<Enrolment>('POST', '/runners/enrolments', { name: 'test' });
      if (r.status !== 201) throw new Error(`enrolment failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.token;
    },
    async startRunner(opts = {}) {
      const rhome = opts.home ?? tempDir('yoke-runner');
      const renv = envWithout({ LOG_LEVEL: 'info', ...opts.env });
      const enrol = spawnNode(
        RUNNER_MAIN,
        ['enrol', '--server', url, '--token', await stack.enrolmentToken(), '--name', 'test-runner', '--home', rhome],
        renv,
      );
      if ((await enrol.exited) !== 0) throw new Error(`runner enrol failed:\n${enrol.lines.join('\n')}`);
      const identity = JSON.parse(readFileSync(`${rhome}/runner.json`, 'utf8')) as {
        credential: string;
        runnerId: string;
      };
      const start = async () => {
        const p = spawnNode(RUNNER_MAIN, ['start', '--home', rhome, '--allow-any-workspace'], renv);
        await p.waitForLine((l) => l.includes('connected to server'), 30_000);
        return p;
      };
      const r: RunnerProc = {
        home: rhome,
        proc: await start(),
        credential: identity.credential,
        runnerId: identity.runnerId,
        async restart() {
          r.proc = await start();
        },
      };
      runners.push(r);
      return r;
    },
    webSocket(tok) {
      return webSocketAt(url, tok);
    },
    async startWorker() {
      const proc = new Proc(spawnNode(WORKER_MAIN, [], env).child);
      await proc.waitForLine((l) => l.includes('yoke worker ready'), 60_000);
      replicas.push(proc);
      return proc;
    },
    async startReplica() {
      const replicaPort = await freePort();
      const proc = await launch(replicaPort);
      replicas.push(proc);
      const base = `http://127.0.0.1:${replicaPort}`;
      return { url: base, proc, webSocket: () => webSocketAt(base), api: apiAt(base) };
    },
    rawRunnerSocket(credential) {
      const s = io(`${url}${NS_RUNNER}`, {
        auth: { credential, protocolVersion: PROTOCOL_VERSION },
        transports: ['websocket'],
        reconnection: false,
      });
      sockets.push(s);
      return s;
    },
    async connectRawRunner(opts = {}) {
      const token = await stack.enrolmentToken();
      const enrolled = await api<EnrolReply>('POST', '/runners/enrol', { token, name: opts.name ?? 'raw' }, null);
      if (enrolled.status !== 201) throw new Error(`enrol failed: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
      const { runnerId, credential } = enrolled.body;
      const socket = stack.rawRunnerSocket(credential);
      if (opts.onInput) socket.on('session.input', opts.onInput);
      await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
      await socket.emitWithAck('runner.hello', { sessions: [] });
      // As a runner does: heartbeats keep it online past YOKE_RUNNER_STALE_SECONDS, for tests that outlast it.
      const beat = setInterval(() => socket.emit('runner.heartbeat', { activeSessions: 0 }, () => undefined), 10_000);
      beat.unref();
      socket.on('disconnect', () => clearInterval(beat));
      await expectEventually(
        async () => (await api<RunnerView[]>('GET', '/runners')).body.find((r) => r.id === runnerId)?.online,
      );
      return { socket, runnerId };
    },
    async stop() {
      for (const s of sockets) s.close();
      await Promise.all(runners.map((r) => r.proc.kill('SIGKILL')));
      await server.kill('SIGTERM');
      await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
      await db?.drop().catch(() => undefined);
      if (mode === 'team') await dropRedisPrefix(env.REDIS_PREFIX as string);
    },
  };
  return stack;
}

/** Polls `url`/health every 20 ms until it answers; resolves with the milliseconds since `t0` (performance.now()). */
export async function waitHealthy(url: string, t0: number, proc: Proc, timeoutMs = 180_000): Promise<number> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  for (;;) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    if (exited) throw new Error(`the process exited before /health answered:\n${proc.lines.slice(-15).join('\n')}`);
    if (performance.now() - t0 > timeoutMs) throw new Error(`no /health after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once a socket.io client is connected (at once if it is); rejects with its connection error. */
export function connected(socket: Socket): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}
