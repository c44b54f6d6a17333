import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditGateway } from './audit.gateway';
import { AuditQueries } from './audit-queries.service';

/** The audit log's REST routes and live feed (API process only; the log itself is AuditModule's). */
@Module({ controllers: [AuditController], providers: [AuditQueries, AuditGateway] })
export class AuditApiModule {}
