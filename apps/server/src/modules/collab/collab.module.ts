import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { RunnersModule } from '../runners/runners.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CollabController } from './collab.controller';
import { CollabGateway } from './collab.gateway';
import { CollabRepository } from './collab.repository';
import { CommentsService } from './comments.service';
import { FilesService } from './files.service';
import { ForkService } from './fork.service';
import { PresenceService } from './presence.service';
import { SharesController } from './shares.controller';
import { SharesService } from './shares.service';

/** Collaboration: shares, comments, presence, fork and workspace files. */
@Module({
  imports: [AccessModule, SessionsModule, RunnersModule],
  controllers: [CollabController, SharesController],
  providers: [
    CollabRepository,
    SharesService,
    CommentsService,
    ForkService,
    FilesService,
    PresenceService,
    CollabGateway,
  ],
})
export class CollabModule {}
