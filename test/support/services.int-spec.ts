import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingEngine, provideServices } from './services';

/** The engine probe against real sockets: it answers true only for a 200 and never waits past its timeout. */
describe('pingEngine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yoke-ping-'));
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const listen = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    server.on('connection', (s) => sockets.push(s));
    servers.push(server);
    const socketPath = join(dir, `engine-${servers.length}.sock`);
    await new Promise<void>((r) => server.listen(socketPath, r));
    return { kind: 'socket' as const, socketPath };
  };
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('is true for an engine that answers /_ping', async () => {
    const endpoint = await listen((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
    await expect(pingEngine(endpoint)).resolves.toBe(true);
  });

  it('is false for a socket path with nothing behind it, or a refused port', async () => {
    await expect(pingEngine({ kind: 'socket', socketPath: join(dir, 'absent.sock') })).resolves.toBe(false);
    await expect(pingEngine({ kind: 'tcp', host: '127.0.0.1', port: 1 })).resolves.toBe(false);
  });

  it('gives up on an engine that never answers within the timeout', async () => {
    const endpoint = await listen(() => undefined); // accepts, never responds
    const started = Date.now();
    await expect(pingEngine(endpoint, 300)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('provideServices', () => {
  it('leaves set variables alone and starts nothing', async () => {
    const env = { DATABASE_URL: 'postgresql://x@h:1/d', REDIS_URL: 'redis://h:2' };
    const s = await provideServices(env);
    expect(s).toMatchObject({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL });
    await s.stop();
  });
});
