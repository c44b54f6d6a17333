/**
 * Which Postgres and Redis the integration and end-to-end tests use, decided once per Jest run, per service:
 * 1. `DATABASE_URL` / `REDIS_URL` when set (CI, or a developer's own services);
 * 2. otherwise a container started through testcontainers, when a Docker engine answers (a contributor's laptop);
 * 3. otherwise the local service on its default port (127.0.0.1:5432 user postgres, 127.0.0.1:6379).
 * The choice is the pure `chooseServices`; `provideServices` carries it out from Jest's globalSetup and exports the
 * containers' URLs as DATABASE_URL / REDIS_URL, which test/support/env.ts reads in every test worker (and hands on
 * to the servers the e2e suites spawn).
 *
 * The container branch is not exercised on the machine these suites are developed on (it has no Docker engine):
 * only the decision and the engine probe are tested there (services.spec.ts, services.int-spec.ts).
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

export const LOCAL_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/test';
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';
/** The images match docker-compose.yml's. */
export const POSTGRES_IMAGE = 'postgres:16';
export const REDIS_IMAGE = 'redis:7';
/** How long a Docker engine has to answer `/_ping` before the tests take the local services instead. */
export const ENGINE_PING_TIMEOUT_MS = 1_000;

export type ServiceChoice = { source: 'env'; url: string } | { source: 'container' } | { source: 'local'; url: string };
export type ServicesPlan = { postgres: ServiceChoice; redis: ServiceChoice };

type ServiceEnv = { DATABASE_URL?: string; REDIS_URL?: string };

/** Pure: the source of each service, from the environment and whether a Docker engine answered. */
export function chooseServices(env: ServiceEnv, engineAnswers: boolean): ServicesPlan {
  const choose = (fromEnv: string | undefined, local: string): ServiceChoice =>
    fromEnv
      ? { source: 'env', url: fromEnv }
      : engineAnswers
        ? { source: 'container' }
        : { source: 'local', url: local };
  return { postgres: choose(env.DATABASE_URL, LOCAL_DATABASE_URL), redis: choose(env.REDIS_URL, LOCAL_REDIS_URL) };
}

/** Whether any service still needs a decision that depends on the engine (so that probing it is worth doing). */
export function needsEngine(env: ServiceEnv): boolean {
  return !env.DATABASE_URL || !env.REDIS_URL;
}

export type EngineEndpoint =
  | { kind: 'socket'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number }
  /** TLS-protected daemons need client certificates; testcontainers reads them, the probe cannot. */
  | { kind: 'tls'; host: string; port: number };

type EngineEnv = { DOCKER_HOST?: string; DOCKER_TLS_VERIFY?: string; HOME?: string; XDG_RUNTIME_DIR?: string };

/**
 * Pure (given `exists`): where a Docker engine would listen. DOCKER_HOST when set; otherwise the first socket that
 * exists of the system one, rootless Docker's, and Docker Desktop's. Null when there is none: no probe at all.
 */
export function engineEndpoint(env: EngineEnv, exists: (path: string) => boolean): EngineEndpoint | null {
  if (env.DOCKER_HOST) {
    const url = safeUrl(env.DOCKER_HOST);
    if (!url) return null;
    if (url.protocol === 'unix:') return { kind: 'socket', socketPath: url.pathname };
    if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
      const tls = url.protocol === 'https:' || (!!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0');
      const port = Number(url.port) || (tls ? 2376 : 2375);
      return { kind: tls ? 'tls' : 'tcp', host: url.hostname, port };
    }
    return null; // ssh:// and npipe:// are not probed: the local services it is
  }
  const candidates = [
    '/var/run/docker.sock',
    ...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
    ...(env.HOME ? [join(env.HOME, '.docker/run/docker.sock')] : []),
  ];
  const socketPath = candidates.find((p) => exists(p));
  return socketPath ? { kind: 'socket', socketPath } : null;
}

function safeUrl(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

/** Whether the engine answers `GET /_ping` with 200 within the timeout; false on any error. Never waits longer. */
export function pingEngine(endpoint: EngineEndpoint, timeoutMs = ENGINE_PING_TIMEOUT_MS): Promise<boolean> {
  if (endpoint.kind === 'tls') return Promise.resolve(true);
  return new Promise((resolve) => {
    const target = endpoint.kind === 'socket' ? { socketPath: endpoint.socketPath } : endpoint;
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    const timer = setTimeout(() => req.destroy(new Error('engine ping timed out')), timeoutMs);
    req.on('timeout', () => req.destroy(new Error('engine ping timed out')));
    req.on('error', () => resolve(false));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

export type ProvidedServices = { plan: ServicesPlan; databaseUrl: string; redisUrl: string; stop(): Promise<void> };

/**
 * Carries out the plan: probes the engine only when a service is not set by the environment, starts the containers
 * the plan asks for (in parallel), and returns the URLs to use. UNTESTED on the development machine (no Docker).
 */
export async function provideServices(env: NodeJS.ProcessEnv = process.env): Promise<ProvidedServices> {
  let engineAnswers = false;
  if (needsEngine(env)) {
    const endpoint = engineEndpoint(env, existsSync);
    engineAnswers = endpoint !== null && (await pingEngine(endpoint));
  }
  const plan = chooseServices(env, engineAnswers);
  const stops: (() => Promise<unknown>)[] = [];
  const [databaseUrl, redisUrl] = await Promise.all([
    plan.postgres.source === 'container'
      ? import('@testcontainers/postgresql').then(async ({ PostgreSqlContainer }) => {
          // The image's POSTGRES_USER is a superuser: createTestDatabase can CREATE DATABASE per test file.
          const c = await new PostgreSqlContainer(POSTGRES_IMAGE).withUsername('postgres').withDatabase('test').start();
          stops.push(() => c.stop());
          return c.getConnectionUri();
        })
      : plan.postgres.url,
    plan.redis.source === 'container'
      ? import('@testcontainers/redis').then(async ({ RedisContainer }) => {
          const c = await new RedisContainer(REDIS_IMAGE).start();
          stops.push(() => c.stop());
          return c.getConnectionUrl();
        })
      : plan.redis.url,
  ]);
  return {
    plan,
    databaseUrl,
    redisUrl,
    async stop() {
      await Promise.all(stops.splice(0).map((s) => s()));
    },
  };
}
