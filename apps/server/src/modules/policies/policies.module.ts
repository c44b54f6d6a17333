import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { PoliciesController } from './policies.controller';
import { PoliciesService } from './policies.service';
import { PolicySetsModule } from './policy-sets.module';

@Module({
  imports: [PolicySetsModule, SessionsModule],
  controllers: [PoliciesController],
  providers: [PoliciesService],
})
export class PoliciesModule {}
