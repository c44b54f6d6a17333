import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { AppError, HTTP_STATUS_BY_CODE } from '@yoke/protocol';
import { awaitDependency, DEPENDENCY_WAIT_MS } from '../../apps/server/src/core/errors/outage';
import { createTestDatabase, expectEventually, REDIS_URL } from '../support/env';
import { type Stack, startStack } from '../support/stack';

/**
 * A TCP proxy in front of the shared Postgres or Redis that a test can cut (stop listening, drop every connection:
 * what clients see when the service goes down), black-hole (drop every connection, then accept new ones and never
 * answer: a server that hangs, or a balancer in front of a dead one) and restore, without touching the service.
 */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private isBlackHole = false;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  static async start(target: string): Promise<CuttableProxy> {
    const url = new URL(target);
    const proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) }, 0);
    await proxy.listen(0);
    return proxy;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.isBlackHole = false;
    this.dropAll();
    if (server) await new Promise((r) => server.close(r));
  }

  async blackHole(): Promise<void> {
    await this.restore();
    this.isBlackHole = true;
    this.dropAll();
  }

  async restore(): Promise<void> {
    if (this.isBlackHole) {
      this.isBlackHole = false;
      this.dropAll();
    }
    if (!this.server) await this.listen(this.port);
  }

  private dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('error', () => undefined);
      client.on('close', () => this.sockets.delete(client));
      if (this.isBlackHole) return;
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(upstream);
      upstream.on('error', () => undefined);
      for (const s of [client, upstream]) {
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    (this as { port: number }).port = (server.address() as { port: number }).port;
    this.server = server;
  }
}

/** One timed request, outside the API prefix too. */
async function timed(url: string, token?: string) {
  const started = Date.now();
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = (await res.json()) as { code?: string; message?: string; details?: { dependency?: string } };
  return { status: res.status, body, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
}

describe('outages are a prompt 503 service.unavailable naming the dependency (team)', () => {
  let pg: CuttableProxy;
  let redis: CuttableProxy;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let stack: Stack;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = await CuttableProxy.start(db.url);
    redis = await CuttableProxy.start(REDIS_URL);
    const viaProxy = new URL(db.url);
    viaProxy.port = String(pg.port);
    stack = await startStack('team', {
      DATABASE_URL: viaProxy.toString(),
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    });
  });

  afterAll(async () => {
    await pg?.restore();
    await redis?.restore();
    await stack?.stop();
    await pg?.cut();
    await redis?.cut();
    await db?.drop();
  });

  const sessions = () => timed(`${stack.url}/api/v1/sessions`, stack.token);
  const tokens = () => timed(`${stack.url}/api/v1/tokens`, stack.token);
  const ready = () => timed(`${stack.url}/ready`);
  /** A history page: read through `pg` directly, not Prisma, so its outage is mapped on its own path. */
  const history = () => timed(`${stack.url}/api/v1/sessions/${randomUUID()}/items`, stack.token);

  it('starts ready', async () => {
    expect((await ready()).status).toBe(200);
    expect((await sessions()).status).toBe(200);
  });

  it('Redis cut: /ready answers 503 naming redis within 2 s, every time; /health stays up; back to 200 once restored', async () => {
    await redis.cut();
    for (let i = 0; i < 3; i++) {
      const r = await ready();
      expect(r.ms).toBeLessThan(2_000);
      expect(r).toMatchObject({
        status: 503,
        retryAfter: '5',
        body: {
          code: 'service.unavailable',
          message: 'Redis is unavailable; retry shortly',
          details: { dependency: 'redis' },
        },
      });
    }
    expect((await timed(`${stack.url}/health`)).status).toBe(200);

    await redis.restore();
    await expectEventually(async () => (await ready()).status === 200);
  });

  it('Postgres cut: the API answers 503 naming postgres with Retry-After, /ready and socket acks too; 200 once restored', async () => {
    const web = stack.webSocket();
    await expectEventually(() => web.connected);
    // Once connected, the gateway checks the socket's credential again (and closes it when that fails): two
    // round trips through the database let that check finish before the cut.
    for (let i = 0; i < 2; i++) {
      expect(await web.emitWithAck('session.join', { sessionId: randomUUID(), afterSeq: 0 })).toMatchObject({
        error: { code: 'session.not_found' },
      });
    }
    await pg.cut();
    const r = await sessions();
    expect(r).toMatchObject({
      status: 503,
      retryAfter: '5',
      body: {
        code: 'service.unavailable',
        message: 'the database is unavailable; retry shortly',
        details: { dependency: 'postgres' },
      },
    });
    expect(r.ms).toBeLessThan(2_000);
    const h = await history();
    expect(h).toMatchObject({ status: 503, retryAfter: '5', body: { details: { dependency: 'postgres' } } });
    expect(h.ms).toBeLessThan(2_000);
    const rr = await ready();
    expect(rr.ms).toBeLessThan(2_000);
    expect(rr).toMatchObject({
      status: 503,
      body: { code: 'service.unavailable', details: { dependency: 'postgres' } },
    });
    expect((await timed(`${stack.url}/health`)).status).toBe(200);
    expect(await web.timeout(2_000).emitWithAck('session.join', { sessionId: randomUUID(), afterSeq: 0 })).toEqual({
      ok: false,
      error: {
        code: 'service.unavailable',
        message: 'the database is unavailable; retry shortly',
        details: { dependency: 'postgres' },
      },
    });

    await pg.restore();
    await expectEventually(async () => (await sessions()).status === 200);
    expect((await history()).status).toBe(404);
    expect((await ready()).status).toBe(200);
    expect(
      await web.timeout(2_000).emitWithAck('session.join', { sessionId: randomUUID(), afterSeq: 0 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'session.not_found' },
    });
  });

  it('Postgres black-holed (connections accepted, never answered): 503 naming postgres within 7 s, not a hang', async () => {
    const web = stack.webSocket();
    await expectEventually(() => web.connected);
    await pg.blackHole();
    for (const call of [sessions, tokens, history]) {
      const r = await call();
      expect(r.ms).toBeLessThan(7_000);
      expect(r).toMatchObject({
        status: 503,
        retryAfter: '5',
        body: { code: 'service.unavailable', details: { dependency: 'postgres' } },
      });
    }
    const rr = await ready();
    expect(rr.ms).toBeLessThan(2_000);
    expect(rr).toMatchObject({ status: 503, body: { details: { dependency: 'postgres' } } });
    const started = Date.now();
    expect(await web.timeout(7_000).emitWithAck('session.join', { sessionId: randomUUID(), afterSeq: 0 })).toEqual({
      ok: false,
      error: {
        code: 'service.unavailable',
        message: 'the database is unavailable; retry shortly',
        details: { dependency: 'postgres' },
      },
    });
    expect(Date.now() - started).toBeLessThan(7_000);
    // The database being away is no reason to close a socket that was let in.
    expect(web.connected).toBe(true);

    await pg.restore();
    await expectEventually(async () => (await sessions()).status === 200);
    expect((await tokens()).status).toBe(200);
    expect(web.connected).toBe(true);
  });

  it('an enqueue while Redis is cut is a 503 naming redis within 4 s, and the job still lands once Redis is back', async () => {
    // No route enqueues today (jobs come from runner disconnects): this drives the server's enqueue bound over the
    // same kind of connection the server gives BullMQ (retrying forever) through the cut proxy.
    const connection = new Redis(`redis://127.0.0.1:${redis.port}`, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    const prefix = `outage_${randomUUID()}`;
    const queue = new Queue('yoke', { connection, prefix });
    queue.on('error', () => undefined);
    const direct = new Redis(REDIS_URL);
    try {
      await queue.waitUntilReady();
      await redis.cut();
      const started = Date.now();
      const err = await awaitDependency('redis', queue.add('probe', {}, { jobId: 'probe-1' }), DEPENDENCY_WAIT_MS).then(
        () => null,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).toBody()).toEqual({
        code: 'service.unavailable',
        message: 'Redis is unavailable; retry shortly',
        details: { dependency: 'redis' },
      });
      expect(HTTP_STATUS_BY_CODE[(err as AppError).code]).toBe(503);
      expect(await direct.exists(`${prefix}:yoke:probe-1`)).toBe(0);

      await redis.restore();
      await expectEventually(async () => (await direct.exists(`${prefix}:yoke:probe-1`)) === 1);
      // The caller's retry of the same job (deterministic id) adds nothing twice.
      await awaitDependency('redis', queue.add('probe', {}, { jobId: 'probe-1' }), DEPENDENCY_WAIT_MS);
      expect(await queue.getJobCounts('wait', 'delayed')).toMatchObject({ wait: 1 });
    } finally {
      await redis.restore();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
      direct.disconnect();
    }
  });
});
