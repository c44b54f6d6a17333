/**
 * The baseline for bench/fanout.ts: a bare socket.io relay with nothing but `io.to(room).emit(...)` between the
 * publisher and the viewers. It speaks the same event names and payloads as Yoke's /runner and /web namespaces
 * so the bench drives both with the same client code:
 *   /runner  'session.delta' {sessionId, delta}  -> /web room `session:<id>` 'session.delta' (same payload)
 *   /web     'session.join' {sessionId}, ack     -> joins the room, acks {ok: true}
 *
 * Usage: node -r ./bench/register.js bench/bare-relay.ts --port N [--adapter memory|redis] [--redis-url URL]
 * Listens on 127.0.0.1 only, prints one line `bare relay listening on <port>`, and stops on SIGTERM/SIGINT or when
 * its parent goes away (stdin closes).
 */
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Room {
  emit(event: string, payload: unknown): void;
}
interface Nsp {
  on(event: 'connection', fn: (socket: ClientSocket) => void): void;
  to(room: string): Room;
}
interface ClientSocket {
  on(event: string, fn: (payload: { sessionId?: unknown }, ack?: (reply: unknown) => void) => void): void;
  join(room: string): void | Promise<void>;
}
interface IoServer {
  of(name: string): Nsp;
  adapter(factory: unknown): void;
  close(fn?: () => void): void;
}

const ROOT = resolve(__dirname, '..');
// The same socket.io the server runs (it is a dependency of apps/server, not of the root).
const { Server } = require(require.resolve('socket.io', { paths: [join(ROOT, 'apps/server')] })) as {
  Server: new (httpServer: unknown, opts: object) => IoServer;
};

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    adapter: { type: 'string', default: 'memory' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0) throw new Error('--port is required');

const http = createServer();
// The same engine options as Yoke's YokeIoAdapter (apps/server/src/core/realtime/io.adapter.ts).
const io = new Server(http, {
  serveClient: false,
  pingInterval: 10_000,
  pingTimeout: 10_000,
  maxHttpBufferSize: 2 * 1024 * 1024,
});
const closers: (() => Promise<unknown>)[] = [];

if (values.adapter === 'redis') {
  const { createAdapter } = require('@socket.io/redis-adapter') as {
    createAdapter: (pub: unknown, sub: unknown, o: object) => unknown;
  };
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const pub = new Redis(values['redis-url']!);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub, { key: `bench_bare_${process.pid}:socket.io` }));
  closers.push(
    () => pub.quit(),
    () => sub.quit(),
  );
} else if (values.adapter !== 'memory') {
  throw new Error(`--adapter must be memory or redis, not ${values.adapter}`);
}

const web = io.of('/web');
web.on('connection', (socket) => {
  socket.on('session.join', (payload, ack) => {
    void Promise.resolve(socket.join(`session:${String(payload?.sessionId)}`)).then(() => ack?.({ ok: true }));
  });
});
io.of('/runner').on('connection', (socket) => {
  socket.on('session.delta', (payload) => {
    web.to(`session:${String(payload?.sessionId)}`).emit('session.delta', payload);
  });
});

http.listen(port, '127.0.0.1', () => console.log(`bare relay listening on ${port} (${values.adapter} adapter)`));

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  io.close(() => {
    void Promise.allSettled(closers.map((c) => c())).then(() => process.exit(0));
  });
  setTimeout(() => process.exit(0), 3_000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
