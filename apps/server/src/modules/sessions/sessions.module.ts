import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AuthModule } from '../auth/auth.module';
import { RunnerGateway } from '../runners/runner.gateway';
import { PolicySetsModule } from '../policies/policy-sets.module';
import { RunnersModule } from '../runners/runners.module';
import { DeltaRelay } from './delta-relay';
import { InboxDispatcher } from './inbox.dispatcher';
import { PartialStore } from './partial-store';
import { RunnerEventsService } from './runner-events.service';
import { RunnerOfflineProcessor } from './runner-offline.processor';
import { SessionsController } from './sessions.controller';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { WebGateway } from './web.gateway';

@Module({
  imports: [AuthModule, RunnersModule, PolicySetsModule, AccessModule],
  controllers: [SessionsController],
  providers: [
    SessionsRepository,
    SessionsService,
    InboxDispatcher,
    PartialStore,
    DeltaRelay,
    RunnerEventsService,
    RunnerOfflineProcessor,
    WebGateway,
    RunnerGateway,
  ],
  exports: [SessionsService],
})
export class SessionsModule {}
