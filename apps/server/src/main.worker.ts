import './core/telemetry/worker-tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Emitter } from '@socket.io/redis-emitter';
import { NS_RUNNER, NS_WEB } from '@yoke/protocol';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import { loadConfig, REDACT_PATHS } from './core/config/config';
import { QUEUE_NAME } from './core/queue/job-queue';
import { JobRegistry } from './core/queue/job-registry';
import { RealtimeHub } from './core/realtime/realtime-hub';
import { WorkerModule } from './worker.module';
import { stopTracing } from './core/telemetry/tracing';

/** `yoke worker`: runs BullMQ jobs (team mode). Viewers are reached through the Redis emitter. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, redact: REDACT_PATHS });
  if (!config.databaseUrl || !config.redisUrl)
    throw new Error('the worker runs in team mode: set DATABASE_URL and REDIS_URL');
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, config.databaseUrl, redis), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  await app.init();
  const registry = app.get(JobRegistry);
  registry.assertComplete();
  // No socket server here: the hub reaches every replica's sockets through the Redis emitter.
  app.get(RealtimeHub).bindEmitter(new Emitter(redis, { key: `${config.redisPrefix}:socket.io` }), {
    web: NS_WEB,
    runner: NS_RUNNER,
  });

  const worker = new Worker(QUEUE_NAME, (job) => registry.run(job.name, job.data), {
    connection: redis.duplicate({ maxRetriesPerRequest: null }),
    prefix: `${config.redisPrefix}:bull`,
    concurrency: 4,
  });
  worker.on('failed', (job, err) => log.warn({ err, job: job?.name, jobId: job?.id }, 'job failed'));
  await worker.waitUntilReady();
  log.info({ queue: QUEUE_NAME }, 'yoke worker ready');

  const shutdown = async () => {
    await worker.close();
    await app.close();
    await redis.quit().catch(() => undefined);
    await stopTracing();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err: unknown) => {
  pino().fatal({ err }, 'yoke worker failed to start');
  process.exit(1);
});
