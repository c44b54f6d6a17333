import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS_CLIENT } from '../redis/redis.tokens';
import { BullJobQueue, InProcessJobQueue, JobQueue } from './job-queue';
import { JobRegistry } from './job-registry';

@Global()
@Module({
  providers: [
    JobRegistry,
    {
      provide: JobQueue,
      inject: [APP_CONFIG, REDIS_CLIENT, JobRegistry],
      useFactory: (config: AppConfig, redis: Redis | null, registry: JobRegistry): JobQueue =>
        redis ? new BullJobQueue(redis, config.redisPrefix) : new InProcessJobQueue(registry),
    },
  ],
  exports: [JobQueue, JobRegistry],
})
export class QueueModule implements OnApplicationShutdown {
  constructor(private readonly moduleRef: ModuleRef) {}

  async onApplicationShutdown(): Promise<void> {
    await this.moduleRef.get(JobQueue).close();
  }
}
