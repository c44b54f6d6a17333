import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Redis } from 'ioredis';
import type { AppConfig } from './core/config/config';
import { YokeIoAdapter } from './core/realtime/io.adapter';

export const GLOBAL_PREFIX = 'api/v1';
/** Served at the root, outside the API prefix (probes and scrapes). */
export const UNPREFIXED = ['health', 'ready', 'metrics'];

/** HTTP and socket.io wiring shared by main.ts and the in-process tests (route table, authorization matrix). */
export function setupApp(
  app: NestExpressApplication,
  config: AppConfig,
  redis: { pub: Redis; sub: Redis } | null,
): void {
  app.useBodyParser('json', { limit: '2mb' });
  // RFC 8628 clients post their device and token requests as forms.
  app.useBodyParser('urlencoded', { limit: '16kb', extended: false });
  app.setGlobalPrefix(GLOBAL_PREFIX, { exclude: UNPREFIXED });
  app.useWebSocketAdapter(
    new YokeIoAdapter(app, redis ? { pub: redis.pub, sub: redis.sub, prefix: config.redisPrefix } : null),
  );
}
