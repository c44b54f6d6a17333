import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createTestDatabase, expectEventually, REDIS_URL } from '../support/env';
import { type Stack, startStack } from '../support/stack';

/**
 * A TCP proxy in front of the shared Postgres or Redis that a test can cut (stop listening, drop every connection:
 * what clients see when the service goes down) and restore, without touching the service itself.
 */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

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
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise((r) => server.close(r));
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
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
  const ready = () => timed(`${stack.url}/ready`);

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
    expect((await ready()).status).toBe(200);
    expect(
      await web.timeout(2_000).emitWithAck('session.join', { sessionId: randomUUID(), afterSeq: 0 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'session.not_found' },
    });
  });
});
