import { Module } from '@nestjs/common';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

/** Usage and cost reports over metered model calls (docs/governance.md). AuditTrail comes from the global AuditModule. */
@Module({ controllers: [UsageController], providers: [UsageRepository, UsageService] })
export class UsageModule {}
