import { PrismaPg } from '@prisma/adapter-pg';
import { AppError } from '@yoke/protocol';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions, ReplyError } from 'ioredis';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BASE_DATABASE_URL } from '../../../../../test/support/env';
import { PrismaClient } from '../../generated/prisma/client';
import { Pool } from 'pg';
import { awaitDependency, outageOf, postgresOutage, serviceUnavailable, toOutageError } from './outage';

/** A loopback port that refuses connections: listened on once, then closed. */
async function closedPort(): Promise<number> {
  const server = await listen(() => undefined);
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A loopback server; `stop` also drops the connections it still holds. */
async function listen(onConnection: (socket: Socket) => void): Promise<Server & { stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(server, {
    stop: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((r) => server.close(() => r()));
    },
  });
}

/** The error a call rejects with (the test fails when it resolves). */
async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/**
 * A Postgres that lets clients in (authentication ok, ready for query) and then never answers: what a server that
 * hangs, or a link that stops forwarding, looks like to a connection already open.
 */
function silentPostgres(socket: Socket): void {
  socket.once('data', () => {
    const authOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
    const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
    socket.write(Buffer.concat([authOk, ready]));
  });
}

type PgOptions = { connectionTimeoutMillis?: number; query_timeout?: number };

function prismaAt(port: number, options: PgOptions = {}): PrismaClient {
  const connectionString = `postgresql://postgres@127.0.0.1:${port}/yoke`;
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 1, ...options }) });
}

describe('outageOf: Postgres, through Prisma and its pg adapter', () => {
  const clients: PrismaClient[] = [];
  const servers: Awaited<ReturnType<typeof listen>>[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(clients.map((c) => c.$disconnect()));
  });
  const client = (port: number, options?: PgOptions) => {
    const c = prismaAt(port, options);
    clients.push(c);
    return c;
  };

  it('recognises a refused connection, for model and raw queries', async () => {
    const prisma = client(await closedPort());
    const model = await rejectionOf(() => prisma.session.findMany());
    const raw = await rejectionOf(() => prisma.$queryRaw`SELECT 1`);
    expect(model).toMatchObject({ code: 'P1001' });
    expect(raw).toMatchObject({ meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } });
    expect(outageOf(model)).toBe('postgres');
    expect(outageOf(raw)).toBe('postgres');
  });

  it('recognises a connection the server drops', async () => {
    const server = await listen((socket) => socket.destroy());
    servers.push(server);
    const err = await rejectionOf(() => client((server.address() as { port: number }).port).session.findMany());
    expect((err as Error).message).toMatch(/Connection terminated/);
    expect(outageOf(err)).toBe('postgres');
  });

  it('recognises a server that never answers (connection timeout)', async () => {
    const server = await listen(() => undefined);
    servers.push(server);
    const prisma = client((server.address() as { port: number }).port, { connectionTimeoutMillis: 200 });
    const err = await rejectionOf(() => prisma.session.findMany());
    expect((err as Error).message).toMatch(/timeout/);
    expect(outageOf(err)).toBe('postgres');
  });

  it('recognises a server that stops answering an open connection (query timeout), for model and raw queries', async () => {
    const server = await listen(silentPostgres);
    servers.push(server);
    const prisma = client((server.address() as { port: number }).port, { query_timeout: 200 });
    const model = await rejectionOf(() => prisma.session.findMany());
    const raw = await rejectionOf(() => prisma.$queryRaw`SELECT 1`);
    expect((model as Error).message).toMatch(/Query read timeout/);
    expect(outageOf(model)).toBe('postgres');
    expect(outageOf(raw)).toBe('postgres');
  });

  it('recognises the same failures where Prisma passes them on bare: starting an interactive transaction', async () => {
    const dropping = await listen((socket) => socket.destroy());
    const silent = await listen(silentPostgres);
    const unanswered = await listen(() => undefined);
    servers.push(dropping, silent, unanswered);
    const portOf = (s: Server) => (s.address() as { port: number }).port;
    const errors = await Promise.all(
      [
        client(portOf(dropping)),
        client(portOf(silent), { query_timeout: 200 }),
        client(portOf(unanswered), { connectionTimeoutMillis: 200 }),
      ].map((prisma) => rejectionOf(() => prisma.$transaction((tx) => tx.session.findMany()))),
    );
    expect(errors.map((e) => [(e as Error).message, (e as { clientVersion?: string }).clientVersion])).toEqual([
      ['Connection terminated unexpectedly', undefined],
      ['Query read timeout', undefined],
      ['Connection terminated due to connection timeout', undefined],
    ]);
    expect(errors.map(outageOf)).toEqual(['postgres', 'postgres', 'postgres']);
  });

  it('leaves a query error that is not about the connection alone', async () => {
    const prisma = client(await closedPort());
    const err = await rejectionOf(() => prisma.session.findMany({ where: { nope: 1 } as never }));
    expect((err as Error).name).toBe('PrismaClientValidationError');
    expect(outageOf(err)).toBeNull();
  });
});

describe("postgresOutage: the process's own pg pool (hot reads that skip Prisma)", () => {
  const pools: Pool[] = [];
  const servers: Awaited<ReturnType<typeof listen>>[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(pools.map((p) => p.end()));
  });
  const poolAt = (port: number, options: PgOptions = {}) => {
    const pool = new Pool({ connectionString: `postgresql://postgres@127.0.0.1:${port}/yoke`, max: 1, ...options });
    pools.push(pool);
    return pool;
  };
  const portOf = (s: Server) => (s.address() as { port: number }).port;

  it('is a 503 naming postgres for a refused, dropped, unanswered or silent connection', async () => {
    const dropping = await listen((socket) => socket.destroy());
    const silent = await listen(silentPostgres);
    const unanswered = await listen(() => undefined);
    servers.push(dropping, silent, unanswered);
    const errors = await Promise.all(
      [
        poolAt(await closedPort()),
        poolAt(portOf(dropping)),
        poolAt(portOf(silent), { query_timeout: 200 }),
        poolAt(portOf(unanswered), { connectionTimeoutMillis: 200 }),
      ].map((pool) => rejectionOf(() => pool.query('SELECT 1'))),
    );
    expect(errors.map(outageOf)).toContain(null); // a bare ECONNREFUSED says nothing by itself
    for (const err of errors) {
      const outage = postgresOutage(err);
      expect(outage).toBeInstanceOf(AppError);
      expect(outage?.toBody()).toMatchObject({ code: 'service.unavailable', details: { dependency: 'postgres' } });
    }
  });

  it('leaves an error Postgres reported about the statement itself', async () => {
    const pool = new Pool({ connectionString: BASE_DATABASE_URL, max: 1 });
    pools.push(pool);
    const err = await rejectionOf(() => pool.query('SELECT nope FROM nowhere'));
    expect((err as { code?: string }).code).toBe('42P01');
    expect(postgresOutage(err)).toBeNull();
    expect(postgresOutage(new TypeError('a bug'))).toBeNull();
  });
});

describe('outageOf: Redis, through ioredis', () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((c) => c.disconnect()));
  const redisAt = async (options: RedisOptions) => {
    const r = new Redis(await closedPort(), '127.0.0.1', {
      retryStrategy: () => 20,
      disconnectTimeout: 10,
      ...options,
    });
    r.on('error', () => undefined);
    clients.push(r);
    return r;
  };

  it('recognises a command given up after its retries (MaxRetriesPerRequestError)', async () => {
    const r = await redisAt({ maxRetriesPerRequest: 1 });
    const err = await rejectionOf(() => r.ping());
    expect((err as Error).name).toBe('MaxRetriesPerRequestError');
    expect(outageOf(err)).toBe('redis');
  });

  it('recognises a client without an offline queue, and a closed connection', async () => {
    const offline = await redisAt({ enableOfflineQueue: false });
    expect(outageOf(await rejectionOf(() => offline.ping()))).toBe('redis');
    const closed = await redisAt({ lazyConnect: true, retryStrategy: () => null });
    const err = await rejectionOf(() => closed.connect());
    expect((err as Error).message).toBe('Connection is closed.');
    expect(outageOf(err)).toBe('redis');
  });

  it('bounds a BullMQ enqueue to a Redis that never answers: service.unavailable naming redis', async () => {
    // A Redis that lets clients connect and never answers; the connection retries forever, as BullMQ needs.
    const silent = await listen(() => undefined);
    const r = new Redis((silent.address() as { port: number }).port, '127.0.0.1', {
      maxRetriesPerRequest: null,
      disconnectTimeout: 10,
    });
    r.on('error', () => undefined);
    const queue = new Queue('outage-spec', { connection: r });
    queue.on('error', () => undefined);
    try {
      const started = Date.now();
      const err = await rejectionOf(() => awaitDependency('redis', queue.add('job', {}, { jobId: 'j1' }), 300));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect((err as AppError).toBody()).toEqual(serviceUnavailable('redis').toBody());
      expect(outageOf(err)).toBe('redis');
    } finally {
      r.disconnect();
      await queue.close();
      await silent.stop();
    }
    expect(await awaitDependency('redis', Promise.resolve(7), 300)).toBe(7);
    const own = new ReplyError('ERR from the work itself');
    expect(await rejectionOf(() => awaitDependency('redis', Promise.reject(own), 300))).toBe(own);
  });

  it('leaves a reply error alone: Redis answered', () => {
    expect(outageOf(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBeNull();
  });
});

describe('outageOf: everything else', () => {
  it('looks through causes, and leaves plain and domain errors alone', async () => {
    const prisma = prismaAt(await closedPort());
    const down = await rejectionOf(() => prisma.session.findMany());
    await prisma.$disconnect();
    expect(outageOf(new Error('job failed', { cause: down }))).toBe('postgres');
    expect(outageOf(new Error('boom'))).toBeNull();
    expect(outageOf(new AppError('session.not_found', 'no such session'))).toBeNull();
    expect(outageOf(serviceUnavailable('redis'))).toBe('redis');
    expect(outageOf(new Error('enqueue failed', { cause: serviceUnavailable('postgres') }))).toBe('postgres');
    expect(outageOf(null)).toBeNull();
    expect(outageOf('Connection is closed.')).toBeNull();
    const loop: { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(outageOf(loop)).toBeNull();
  });

  it('leaves a bare socket error unattributed: it does not say which service refused', async () => {
    const err = await new Promise<Error>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => {
          connect(port, '127.0.0.1').on('error', resolve);
        });
      });
    });
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(outageOf(err)).toBeNull();
  });
});

describe('serviceUnavailable', () => {
  it('names the dependency in the message and the details', async () => {
    const prisma = prismaAt(await closedPort());
    const down = await rejectionOf(() => prisma.session.findMany());
    await prisma.$disconnect();
    expect(toOutageError(down)?.toBody('c1')).toEqual({
      code: 'service.unavailable',
      message: 'the database is unavailable; retry shortly',
      details: { dependency: 'postgres' },
      correlationId: 'c1',
    });
    expect(serviceUnavailable('redis', { checks: { redis: 'down' } }).toBody()).toEqual({
      code: 'service.unavailable',
      message: 'Redis is unavailable; retry shortly',
      details: { dependency: 'redis', checks: { redis: 'down' } },
    });
    expect(toOutageError(new Error('boom'))).toBeNull();
  });
});
