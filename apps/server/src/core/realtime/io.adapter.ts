import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { MAX_EVENT_BYTES } from '@yoke/protocol';
import type { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/config';
import { checkBrowserOrigin, isLoopbackHost } from '../http/browser-origin';

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
      // Every handshake of every namespace (/web, /runner): browsers apply no CORS to WebSockets, so a page from
      // another origin is refused here, before any namespace authenticates it (cross-site WebSocket hijacking).
      allowRequest: (req, callback) => {
        if (this.config.embedded && !isLoopbackHost(req.headers.host)) {
          return callback('this Yoke serves its local user only at 127.0.0.1 / localhost', false);
        }
        const verdict = checkBrowserOrigin(req.headers, this.config.allowedOrigins);
        callback(verdict.ok ? null : verdict.reason, verdict.ok);
      },
    } as ServerOptions) as Server;
    if (this.redis) {
      server.adapter(createAdapter(this.redis.pub, this.redis.sub, { key: `${this.redis.prefix}:socket.io` }));
    }
    return server;
  }
}
