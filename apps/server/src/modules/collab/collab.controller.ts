import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  AppError,
  CreateCommentBody,
  FilesQuery,
  ForkSessionBody,
  ResolveCommentBody,
  WorkspaceReadRequest,
} from '@yoke/protocol';
import { z } from 'zod';
import { ZodPipe } from '../../core/zod-body.pipe';
import { GuestAllowed } from '../../core/auth/guest-allowed';
import { SessionAccessService } from '../access/session-access.service';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { CommentsService } from './comments.service';
import { FilesService } from './files.service';
import { ForkService } from './fork.service';

const SessionId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('session.not_found', 'no such session') });
const CommentId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('comment.not_found', 'no such comment') });
const CommentsQuery = z.strictObject({ path: z.string().min(1).max(4096).optional() });
const FileQuery = WorkspaceReadRequest.pick({ path: true });

/** A session's collaboration surface: the caller's access, comments, workspace files and fork. */
@Controller('sessions/:id')
export class CollabController {
  constructor(
    private readonly access: SessionAccessService,
    private readonly comments: CommentsService,
    private readonly files: FilesService,
    private readonly forks: ForkService,
  ) {}

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited("a read of the caller's own access to the session")
  @Get('access')
  async me(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    const { grantId: _g, linkId: _l, ...access } = await this.access.resolve(p, id);
    return access;
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('a read of session data the caller may see')
  @Get('comments')
  listComments(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Query(new ZodPipe(CommentsQuery)) q: z.infer<typeof CommentsQuery>,
  ) {
    return this.comments.list(p, id, q.path);
  }

  @Allow('auditor')
  @GuestAllowed()
  @Audited('comment.created')
  @Post('comments')
  comment(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Body(new ZodPipe(CreateCommentBody)) body: CreateCommentBody,
  ) {
    return this.comments.create(p, id, body);
  }

  @Allow('auditor')
  @GuestAllowed()
  @Audited('comment.resolved')
  @Patch('comments/:commentId')
  resolve(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Param('commentId', CommentId) commentId: string,
    @Body(new ZodPipe(ResolveCommentBody)) body: ResolveCommentBody,
  ) {
    return this.comments.resolve(p, id, commentId, body.resolved);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited("a read of the session's workspace the caller may see")
  @Get('files')
  list(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Query(new ZodPipe(FilesQuery)) q: FilesQuery,
  ) {
    return this.files.list(p, id, q.path);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited("a read of the session's workspace the caller may see")
  @Get('files/content')
  read(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Query(new ZodPipe(FileQuery)) q: z.infer<typeof FileQuery>,
  ) {
    return this.files.read(p, id, q.path);
  }

  @Allow('auditor')
  @Audited('session.created', 'session.forked')
  @Post('fork')
  fork(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Body(new ZodPipe(ForkSessionBody)) body: ForkSessionBody,
  ) {
    return this.forks.fork(p, id, body);
  }
}
