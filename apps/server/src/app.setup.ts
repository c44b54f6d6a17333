import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Redis } from 'ioredis';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError } from '@yoke/protocol';
import type { AppConfig } from './core/config/config';
import { bodyEncodingErrors, localLink, requestGuards, verifyUtf8 } from './core/http/request-guards';
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
  // Before anything is parsed: foreign origins, non-JSON writes and (embedded) foreign Host names stop here.
  app.use(requestGuards(config));
  app.use(localLink(config));
  // Nest's types leave out `verify` (it uses it for raw bodies, which Yoke does not ask for); body-parser takes it.
  app.useBodyParser('json', { limit: '2mb', verify: verifyUtf8 } as { limit: string });
  // RFC 8628 clients post their device and token requests as forms.
  app.useBodyParser('urlencoded', { limit: '16kb', extended: false, verify: verifyUtf8 } as { limit: string });
  app.use(bodyEncodingErrors);
  app.setGlobalPrefix(GLOBAL_PREFIX, { exclude: UNPREFIXED });
  // No ETag on API answers: Express hashes every body for one, and no client sends If-None-Match (static files keep
  // theirs: serve-static sets its own).
  app.set('etag', false);
  // Requests Node's HTTP parser refuses (headers past 16 KiB, malformed request lines) get a typed body too.
  (app.getHttpServer() as Server).on('clientError', answerParserError);
  app.useWebSocketAdapter(
    new YokeIoAdapter(app, config, redis ? { pub: redis.pub, sub: redis.sub, prefix: config.redisPrefix } : null),
  );
}

function answerParserError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify(
    tooLarge
      ? new AppError('request.too_large', 'the request line and headers are larger than 16 KiB').toBody()
      : new AppError('request.invalid', 'malformed HTTP request').toBody(),
  );
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
