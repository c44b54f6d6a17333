import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { AppError, MAX_EVENT_BYTES } from '@yoke/protocol';
import type { Redis } from 'ioredis';
import type { IncomingHttpHeaders } from 'node:http';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import type { AppConfig } from '../config/config';
import { checkBrowserOrigin, isLoopbackHost } from '../http/browser-origin';
import { connectError } from './socket-auth';

/**
 * socket.io for every gateway. With Redis, rooms fan out across replicas through the Redis adapter; without it
 * (embedded mode) the default in-process adapter serves the single process.
 */
export class YokeIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: Pick<AppConfig, 'embedded' | 'allowedOrigins'>,
    private readonly redis: { pub: Redis; sub: Redis; prefix: string } | null,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      // Frames past twice the event limit are dropped by socket.io itself; smaller oversize events get a typed error.
      maxHttpBufferSize: 2 * MAX_EVENT_BYTES,
      serveClient: false,
      pingInterval: 10_000,
      pingTimeout: 10_000,
    } as ServerOptions) as Server;
    // Every handshake of every namespace (/web, /runner and the main one): browsers apply no CORS to WebSockets, so a
    // page from another origin is refused here, before any namespace authenticates it (cross-site WebSocket
    // hijacking). Registered before the gateways add their own middleware, so it runs first.
    const guard = (socket: Socket, next: (err?: Error) => void) => {
      const refusal = this.refusal(socket.handshake.headers);
      next(refusal ? connectError(new AppError('request.foreign_origin', refusal)) : undefined);
    };
    server.use(guard);
    server.on('new_namespace', (nsp: Namespace) => nsp.use(guard));
    if (this.redis) {
      // Loaded here, in team mode only: embedded mode serves one process with socket.io's in-process adapter.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createAdapter } = require('@socket.io/redis-adapter') as typeof import('@socket.io/redis-adapter');
      server.adapter(createAdapter(this.redis.pub, this.redis.sub, { key: `${this.redis.prefix}:socket.io` }));
    }
    return server;
  }

  private refusal(headers: IncomingHttpHeaders): string | null {
    if (this.config.embedded && !isLoopbackHost(headers.host)) {
      return 'this Yoke serves its local user only at 127.0.0.1 / localhost';
    }
    const verdict = checkBrowserOrigin(headers, this.config.allowedOrigins);
    return verdict.ok ? null : verdict.reason;
  }
}
