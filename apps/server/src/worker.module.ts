import { type DynamicModule, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from './core/config/config';
import { CoreModule } from './core/core.module';
import { QueueModule } from './core/queue/queue.module';
import { AuditModule } from './modules/audit/audit.module';
import { RetentionModule } from './modules/retention/retention.module';
import { SessionsModule } from './modules/sessions/sessions.module';

/** The worker process: the same modules as the API, without HTTP or socket servers; it runs the job processors. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, databaseUrl: string, redis: Redis): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot(config, databaseUrl, redis),
        QueueModule,
        AuditModule,
        SessionsModule,
        RetentionModule,
      ],
    };
  }
}
