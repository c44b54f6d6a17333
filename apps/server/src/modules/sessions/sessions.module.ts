import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AgentsModule } from '../agents/agents.module';
import { AuthModule } from '../auth/auth.module';
import { BudgetsModule } from '../budgets/budgets.module';
import { PolicySetsModule } from '../policies/policy-sets.module';
import { RunnersModule } from '../runners/runners.module';
import { DeltaRelay } from './delta-relay';
import { InboxDispatcher } from './inbox.dispatcher';
import { PartialStore } from './partial-store';
import { QueuedPromptsService } from './queued-prompts.service';
import { RunnerEventsService } from './runner-events.service';
import { RunnerGateway } from './runner.gateway';
import { RunnerOfflineProcessor } from './runner-offline.processor';
import { SessionsController } from './sessions.controller';
import { InboxRepository } from './inbox.repository';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SessionArchiveService } from './session-archive.service';
import { SessionInputsService } from './session-inputs.service';
import { SessionQueriesService } from './session-queries.service';
import { SessionReadsRepository } from './session-reads.repository';
import { SessionViewsService } from './session-views.service';
import { StartSession } from './start-session.use-case';
import { WebGateway } from './web.gateway';

@Module({
  imports: [AuthModule, RunnersModule, PolicySetsModule, AccessModule, BudgetsModule, AgentsModule],
  controllers: [SessionsController],
  providers: [
    SessionsRepository,
    InboxRepository,
    SessionReadsRepository,
    SessionsService,
    SessionQueriesService,
    SessionInputsService,
    SessionArchiveService,
    QueuedPromptsService,
    SessionViewsService,
    StartSession,
    InboxDispatcher,
    PartialStore,
    DeltaRelay,
    RunnerEventsService,
    RunnerOfflineProcessor,
    WebGateway,
    RunnerGateway,
  ],
  exports: [SessionsService, SessionQueriesService, SessionInputsService, StartSession],
})
export class SessionsModule {}
