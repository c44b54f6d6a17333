import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { MAX_EVENT_BYTES } from '@yoke/protocol';
import type { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';

/**
 * socket.io for every gateway. With Redis, rooms fan out across replicas through the Redis adapter; without it
 * (embedded mode) the default in-process adapter serves the single process.
 */
export class YokeIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
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
    if (this.redis) {
      server.adapter(createAdapter(this.redis.pub, this.redis.sub, { key: `${this.redis.prefix}:socket.io` }));
    }
    return server;
  }
}
