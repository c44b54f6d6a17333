import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Redis } from 'ioredis';
import type { AppConfig } from './core/config/config';
import { CoreModule } from './core/core.module';
import { HttpExceptionFilter } from './core/errors/http-exception.filter';
import { QueueModule } from './core/queue/queue.module';
import { AgentsModule } from './modules/agents/agents.module';
import { ApprovalsModule } from './modules/approvals/approvals.module';
import { AuditApiModule } from './modules/audit/audit-api.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuthModule } from './modules/auth/auth.module';
import { BudgetsModule } from './modules/budgets/budgets.module';
import { CollabModule } from './modules/collab/collab.module';
import { SignInModule } from './modules/auth/sign-in.module';
import { HealthModule } from './modules/health/health.module';
import { PoliciesModule } from './modules/policies/policies.module';
import { BootstrapModule } from './modules/org-admin/bootstrap.module';
import { OrgAdminModule } from './modules/org-admin/org-admin.module';
import { RunnersModule } from './modules/runners/runners.module';
import { RetentionModule } from './modules/retention/retention.module';
import { SessionsModule } from './modules/sessions/sessions.module';
import { UsageModule } from './modules/usage/usage.module';

/** The API process: REST + socket.io gateways. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string, redis: Redis | null): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, databaseUrl, redis),
        QueueModule,
        AuditModule,
        AuthModule,
        BootstrapModule,
        SignInModule,
        OrgAdminModule,
        RunnersModule,
        SessionsModule,
        ApprovalsModule,
        CollabModule,
        PoliciesModule,
        HealthModule,
        AuditApiModule,
        UsageModule,
        RetentionModule,
        BudgetsModule,
        AgentsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
