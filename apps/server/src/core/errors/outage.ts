import { AppError } from '@yoke/protocol';

/** A backing service the server cannot work without. */
export type Dependency = 'postgres' | 'redis';

/** Seconds a client is told to wait (`Retry-After`) before trying again during an outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/**
 * How long a request waits on a client that retries through an outage (BullMQ's Redis connection must have
 * `maxRetriesPerRequest: null`) before it answers `service.unavailable`; without a bound it would wait out the outage.
 */
export const DEPENDENCY_WAIT_MS = 3_000;

const MESSAGES: Record<Dependency, string> = {
  postgres: 'the database is unavailable; retry shortly',
  redis: 'Redis is unavailable; retry shortly',
};

/** The typed error for an outage: `service.unavailable` (503), naming the dependency. */
export function serviceUnavailable(dependency: Dependency, more: Record<string, unknown> = {}): AppError {
  return new AppError('service.unavailable', MESSAGES[dependency], { dependency, ...more });
}

/**
 * What `work` gives, or `service.unavailable` naming `dependency` when it has not settled within `timeoutMs`: for
 * clients that wait through an outage (BullMQ's Redis connection retries forever). The work is not cancelled; a
 * late failure of it is dropped, since the caller was already answered.
 */
export async function awaitDependency<T>(dependency: Dependency, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(serviceUnavailable(dependency)), timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

/** `err` as a `service.unavailable` error when it reports a lost connection to Postgres or Redis; otherwise null. */
export function toOutageError(err: unknown): AppError | null {
  const dependency = outageOf(err);
  return dependency ? serviceUnavailable(dependency) : null;
}

/** Socket errors: from a client this process knows talks to Postgres (its own `pg` pool), an outage of it. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * `err`, thrown by the process's own `pg` pool (where a bare socket error can only be Postgres'), as a
 * `service.unavailable` naming postgres when it reports a lost, refused or silent connection; otherwise null.
 */
export function postgresOutage(err: unknown): AppError | null {
  if (outageOf(err) === 'postgres') return serviceUnavailable('postgres');
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SOCKET_CODES.has(code) ? serviceUnavailable('postgres') : null;
}

/**
 * Prisma codes for a database that cannot be reached or stopped answering: can't reach (P1001), timed out connecting
 * (P1002) or in an operation (P1008), closed the connection (P1017), no pooled connection in time (P2024).
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** What `@prisma/adapter-pg` calls a lost connection (`meta.driverAdapterError.cause.kind`). */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** SQLSTATEs of a server that is gone, going or full: class 08 (connection), 57P01-57P03 (shutdown), 53300. */
const SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
/**
 * What `pg` and its pool say when a connection breaks, never comes or stops answering (`query_timeout`). Prisma
 * passes these on as plain errors: with its version attached from a query, bare from a transaction's connection.
 */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query read timeout',
];
/** What ioredis rejects commands with while disconnected (per its retry and offline-queue options). */
const REDIS_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Reached the max retries per request limit',
  'Command timed out',
];

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  clientVersion?: unknown;
  severity?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
  details?: unknown;
  cause?: unknown;
}

/**
 * Which dependency's outage `err` (or an error in its `cause` chain) reports, or null. Recognised by shape, not class:
 * only repositories import Prisma. A bare socket error (ECONNREFUSED, ...) with no client's mark says nothing about
 * which service it came from; both clients wrap theirs, so it is left to the 500 path.
 */
export function outageOf(err: unknown): Dependency | null {
  const seen = new Set<unknown>();
  for (let e = err; e !== null && typeof e === 'object' && !seen.has(e); e = (e as ErrorLike).cause) {
    seen.add(e);
    const found = classify(e as ErrorLike);
    if (found) return found;
  }
  return null;
}

function classify(e: ErrorLike): Dependency | null {
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.clientVersion !== undefined) {
    // A Prisma error: a known code, the adapter's kind, or a pg connection error passed through.
    const cause = e.meta?.driverAdapterError?.cause;
    if (PRISMA_CODES.has(code)) return 'postgres';
    if (typeof cause?.kind === 'string' && ADAPTER_KINDS.has(cause.kind)) return 'postgres';
    if (typeof cause?.originalCode === 'string' && SQLSTATE.test(cause.originalCode)) return 'postgres';
    if (PG_MESSAGES.some((m) => message.includes(m))) return 'postgres';
    return null;
  }
  // Already typed (an enqueue that timed out, a check that gave up): the dependency it names.
  if (e.name === 'AppError' && code === 'service.unavailable') return dependencyIn(e.details);
  // A pg DatabaseError met outside Prisma carries the SQLSTATE and a severity.
  if (typeof e.severity === 'string' && SQLSTATE.test(code)) return 'postgres';
  // pg's own words, bare (no other client of this process says them).
  if (PG_MESSAGES.some((m) => message.startsWith(m))) return 'postgres';
  if (e.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.startsWith(m))) return 'redis';
  return null;
}

function dependencyIn(details: unknown): Dependency | null {
  const named = (details as { dependency?: unknown } | null | undefined)?.dependency;
  return named === 'postgres' || named === 'redis' ? named : null;
}
