import { type DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig, REDACT_PATHS } from './config/config';
import { DATABASE_URL } from './database/database-url';
import { MetricsService } from './metrics/metrics.service';
import { PrismaService } from './prisma/prisma.service';
import { RealtimePublisher } from './realtime/realtime.publisher';
import { SessionWatchers } from './realtime/session-watchers';
import { REDIS_CLIENT } from './redis/redis.tokens';

/** Cross-cutting providers every module may inject: config, logging, Prisma, Redis, metrics, realtime. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, databaseUrl: string, redis: Redis | null): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
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
        }),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DATABASE_URL, useValue: databaseUrl },
        { provide: REDIS_CLIENT, useValue: redis },
        PrismaService,
        MetricsService,
        RealtimePublisher,
        {
          provide: SessionWatchers,
          useFactory: () => {
            const logger = new Logger(SessionWatchers.name);
            return new SessionWatchers((context, message) => logger.warn(context, message));
          },
        },
      ],
      exports: [
        APP_CONFIG,
        DATABASE_URL,
        REDIS_CLIENT,
        PrismaService,
        MetricsService,
        RealtimePublisher,
        SessionWatchers,
      ],
    };
  }
}
