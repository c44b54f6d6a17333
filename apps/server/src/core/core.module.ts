import { type DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { PrincipalCache } from './auth/principal-cache';
import { APP_CONFIG, type AppConfig, REDACT_PATHS } from './config/config';
import { DATABASE_URL } from './database/database-url';
import { MetricsService } from './metrics/metrics.service';
import { PrismaService } from './prisma/prisma.service';
import { Transactions } from './prisma/transactions';
import { RealtimeHub } from './realtime/realtime-hub';
import { RealtimePublisher } from './realtime/realtime.publisher';
import { SessionWatchers } from './realtime/session-watchers';
import { REDIS_CLIENT } from './redis/redis.tokens';
import { HttpRouteSpan } from './telemetry/http-route-span';

/** Told to the other replicas when a token revoke, member removal or role change committed on this one. */
const PRINCIPALS_CHANGED = 'yoke:principals-changed';

/** Cross-cutting providers every module may inject: config, logging, Prisma, Redis, metrics, realtime. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, databaseUrl: string, redis: Redis | null): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        LoggerModule.forRoot({
          // Lines are written to stdout off the request's path (a sync write per request was ~5% of a read's CPU); the
          // destination flushes what is pending when the process exits.
          pinoHttp: [
            {
              level: config.logLevel,
              redact: REDACT_PATHS,
              genReqId: (req, res) => {
                const given = req.headers['x-request-id'];
                const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
                res.setHeader('x-request-id', id);
                return id;
              },
              autoLogging: { ignore: (req) => ['/health', '/ready', '/metrics'].includes(req.url ?? '') },
              // The link `yoke start` prints carries the local credential once (`/?token=`): never into a log line.
              serializers: {
                req: (req: { url?: unknown; query?: Record<string, unknown> }) => {
                  if (typeof req.url === 'string') req.url = req.url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
                  if (req.query && 'token' in req.query) req.query = { ...req.query, token: '[redacted]' };
                  return req;
                },
              },
            },
            pino.destination({ dest: 1, sync: false }),
          ],
        }),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DATABASE_URL, useValue: databaseUrl },
        { provide: REDIS_CLIENT, useValue: redis },
        PrismaService,
        Transactions,
        MetricsService,
        // Created at boot, before any socket server: the gateways (or the worker's Redis emitter) bind it once.
        { provide: RealtimeHub, useFactory: () => new RealtimeHub({ clustered: redis !== null }) },
        {
          provide: SessionWatchers,
          inject: [RealtimeHub],
          useFactory: (hub: RealtimeHub) => {
            const logger = new Logger(SessionWatchers.name);
            const watchers = new SessionWatchers(hub, (context, message) => logger.warn(context, message));
            // Announcements may have been missed while Redis was away: start again from "unknown" (publish).
            redis?.on('ready', () => watchers.reset());
            return watchers;
          },
        },
        RealtimePublisher,
        // API tokens resolved for a few seconds; cleared by any revoke, removal or role change, on every replica.
        {
          provide: PrincipalCache,
          inject: [RealtimeHub],
          useFactory: (hub: RealtimeHub) => {
            const cache = new PrincipalCache();
            hub.onCluster((link) => {
              link.on(PRINCIPALS_CHANGED, () => cache.forget());
              cache.onInvalidate(() => link.emit(PRINCIPALS_CHANGED, {}));
            });
            return cache;
          },
        },
        { provide: APP_INTERCEPTOR, useClass: HttpRouteSpan },
      ],
      exports: [
        APP_CONFIG,
        DATABASE_URL,
        REDIS_CLIENT,
        PrismaService,
        Transactions,
        MetricsService,
        RealtimeHub,
        RealtimePublisher,
        SessionWatchers,
        PrincipalCache,
      ],
    };
  }
}
