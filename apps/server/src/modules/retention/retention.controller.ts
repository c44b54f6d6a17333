import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { AppError, LegalHoldBody, LegalHoldsQuery, UpdateRetentionBody } from '@yoke/protocol';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Audited, NotAudited } from '../audit/audited';
import { RetentionService } from './retention.service';

/**
 * The org's retention and legal holds (docs/governance.md): owners and admins change them and run a sweep; auditors
 * read the settings, the holds and the dry-run (rule `audit`); members see none of it.
 */
@Controller('org')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Allow('audit')
  @NotAudited('two durations of the org, no content')
  @Get('retention')
  settings(@CurrentPrincipal() p: Principal) {
    return this.retention.settings(p.orgId);
  }

  @Allow('admin')
  @Audited('retention.updated')
  @Put('retention')
  update(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(UpdateRetentionBody)) body: UpdateRetentionBody) {
    return this.retention.update(p, body);
  }

  @Allow('audit')
  @Audited('retention.previewed')
  @Get('retention/preview')
  preview(@CurrentPrincipal() p: Principal) {
    return this.retention.preview(p);
  }

  @Allow('admin')
  @Audited('retention.erased', 'retention.run')
  @Post('retention/run')
  @HttpCode(200)
  run(@CurrentPrincipal() p: Principal) {
    return this.retention.runNow(p);
  }

  @Allow('audit')
  @Audited('legal_hold.read')
  @Get('legal-holds')
  holds(@CurrentPrincipal() p: Principal, @Query(new ZodPipe(LegalHoldsQuery)) q: LegalHoldsQuery) {
    return this.retention.holds(p, q.all === 'true');
  }

  @Allow('admin')
  @Audited('legal_hold.placed')
  @Post('legal-holds')
  place(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(LegalHoldBody)) body: LegalHoldBody) {
    return this.retention.place(p, body);
  }

  /** Releases the hold (it stays listed, with who released it and when). An id that is not a uuid names no hold. */
  @Allow('admin')
  @Audited('legal_hold.released')
  @Delete('legal-holds/:id')
  release(
    @CurrentPrincipal() p: Principal,
    @Param(
      'id',
      new ParseUUIDPipe({ exceptionFactory: () => new AppError('retention.hold_not_found', 'no such legal hold') }),
    )
    id: string,
  ) {
    return this.retention.release(p, id);
  }
}
