import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  AppError,
  CancelBody,
  CreateSessionBody,
  ItemsQuery,
  ListSessionsQuery,
  SendMessageBody,
} from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { SessionsService } from './sessions.service';
import { writeItemsPage } from './items-page';
import { SessionQueriesService } from './session-queries.service';
import { SessionInputsService } from './session-inputs.service';
import { QueuedPromptsService } from './queued-prompts.service';
import { SessionArchiveService } from './session-archive.service';
import { GuestAllowed } from '../../core/auth/guest-allowed';

const SessionId = new ParseUUIDPipe({
  exceptionFactory: () => new AppError('session.not_found', 'no such session'),
});

@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly queries: SessionQueriesService,
    private readonly inputs: SessionInputsService,
    private readonly queued: QueuedPromptsService,
    private readonly archives: SessionArchiveService,
  ) {}

  @Allow('member')
  @Audited('session.created')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateSessionBody)) body: CreateSessionBody) {
    return this.sessions.create(p, body);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('a read of the sessions the caller may see')
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query(new ZodPipe(ListSessionsQuery)) q: ListSessionsQuery) {
    return this.queries.list(p, q);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('a read of session data the caller may see')
  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    return this.queries.get(p, id);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('a read of session data the caller may see')
  @Get(':id/items')
  async items(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Query(new ZodPipe(ItemsQuery)) q: ItemsQuery,
    @Res() res: Response,
  ): Promise<void> {
    // The page's JSON is written by Postgres and sent as it is (a late joiner reads thousands of items this way).
    writeItemsPage(res, await this.queries.itemsJson(p, id, q.afterSeq, q.limit));
  }

  @Allow('member')
  @GuestAllowed()
  @Audited('session.prompt')
  @Post(':id/messages')
  @HttpCode(202)
  send(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Body(new ZodPipe(SendMessageBody)) body: SendMessageBody,
  ) {
    return this.inputs.sendMessage(p, id, body);
  }

  @Allow('member')
  @GuestAllowed()
  @Audited('session.cancelled')
  @Post(':id/cancel')
  @HttpCode(202)
  cancel(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Body(new ZodPipe(CancelBody)) body: CancelBody,
  ) {
    return this.inputs.cancel(p, id, body);
  }

  @Allow('member')
  @Audited('session.archived')
  @Post(':id/archive')
  @HttpCode(200)
  archive(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    return this.archives.archive(p, id);
  }

  @Allow('member')
  @Audited('session.restored')
  @Post(':id/restore')
  @HttpCode(200)
  restore(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    return this.archives.restore(p, id);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('a read of session data the caller may see')
  @Get(':id/queued')
  listQueued(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    return this.queued.list(p, id);
  }

  @Allow('member')
  @GuestAllowed()
  @Audited('session.prompt_withdrawn')
  @Delete(':id/queued/:inboxId')
  @HttpCode(204)
  withdrawQueued(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    // Anything but a uuid names no queued prompt.
    @Param(
      'inboxId',
      new ParseUUIDPipe({ exceptionFactory: () => new AppError('input.not_found', 'no such queued prompt') }),
    )
    inboxId: string,
  ) {
    return this.queued.withdraw(p, id, inboxId);
  }
}
