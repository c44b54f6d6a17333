import { Module } from '@nestjs/common';
import { PolicySetsRepository } from './policy-sets.repository';
import { PolicySetsService } from './policy-sets.service';

/** The org policy store; sessions read it at creation, the policies API writes it. */
@Module({
  providers: [PolicySetsRepository, PolicySetsService],
  exports: [PolicySetsService],
})
export class PolicySetsModule {}
