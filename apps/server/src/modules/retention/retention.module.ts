import { Module } from '@nestjs/common';
import { RetentionController } from './retention.controller';
import { RetentionProcessor } from './retention.processor';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';
import { RetentionSweep } from './retention-sweep.use-case';

/**
 * Retention and legal hold (docs/governance.md): the settings and holds routes, the dry-run, and the nightly sweep
 * (`retention.sweep`). Loaded by the API (routes; in embedded mode it runs the job too) and by the worker (the job).
 * AuditTrail and AuditRepository come from the global AuditModule.
 */
@Module({
  controllers: [RetentionController],
  providers: [RetentionRepository, RetentionSweep, RetentionService, RetentionProcessor],
})
export class RetentionModule {}
