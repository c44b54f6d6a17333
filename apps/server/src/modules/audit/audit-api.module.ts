import { Module } from '@nestjs/common';
import { SecretBox } from '../../core/auth/secret-box';
import { AuditController } from './audit.controller';
import { AuditGateway } from './audit.gateway';
import { AuditQueries } from './audit-queries.service';
import { AuditSinksController } from './audit-sinks.controller';
import { AuditSinks } from './audit-sinks.service';

/** The audit log's REST routes and live feed (API process only; the log itself is AuditModule's). */
@Module({
  controllers: [AuditController, AuditSinksController],
  providers: [AuditQueries, AuditGateway, AuditSinks, SecretBox],
})
export class AuditApiModule {}
