import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { SecretBox } from '../../core/auth/secret-box';
import { AuditCheckpoints } from './audit-checkpoints.service';
import { AuditContext, AuditContextInterceptor } from './audit-context';
import { AuditExports } from './audit-exports.service';
import { AuditKeys } from './audit-keys.service';
import { AuditRepository } from './audit.repository';
import { AuditSinkDelivery } from './audit-sink-delivery.processor';
import { AuditSinksRepository } from './audit-sinks.repository';
import { AuditTrail } from './audit-trail.service';

/**
 * The audit log (DESIGN §9): what every module records through (AuditTrail, global), the request origin it stamps
 * on events, and the jobs that sign checkpoints, write exports and stream the log to the org's sinks. Loaded by the
 * API and the worker alike; the REST routes and the live feed are AuditApiModule, API only.
 */
@Global()
@Module({
  providers: [
    AuditRepository,
    AuditContext,
    AuditTrail,
    SecretBox,
    AuditKeys,
    AuditCheckpoints,
    AuditExports,
    AuditSinksRepository,
    AuditSinkDelivery,
    { provide: APP_INTERCEPTOR, useClass: AuditContextInterceptor },
  ],
  exports: [
    AuditTrail,
    AuditContext,
    AuditRepository,
    AuditKeys,
    AuditCheckpoints,
    AuditExports,
    AuditSinksRepository,
    AuditSinkDelivery,
  ],
})
export class AuditModule {}
