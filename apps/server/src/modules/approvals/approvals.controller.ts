import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { AppError, ApprovalId, DecideApprovalBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ApprovalsService } from './approvals.service';
import { GuestAllowed } from '../../core/auth/guest-allowed';

const SessionId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('session.not_found', 'no such session') });

@Controller()
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Allow('auditor')
  @NotAudited('a read of the pending approvals the caller may see')
  @Get('approvals')
  pending(@CurrentPrincipal() p: Principal) {
    return this.approvals.pending(p);
  }

  @Allow('auditor')
  @GuestAllowed()
  @NotAudited('a read of session data the caller may see')
  @Get('sessions/:id/approvals')
  list(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    return this.approvals.list(p, id);
  }

  @Allow('member')
  @Audited('approval.decided')
  @Post('sessions/:id/approvals/:approvalId')
  @HttpCode(200)
  decide(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Param('approvalId', new ZodPipe(ApprovalId)) approvalId: string,
    @Body(new ZodPipe(DecideApprovalBody)) body: DecideApprovalBody,
  ) {
    return this.approvals.decide(p, id, approvalId, body);
  }
}
