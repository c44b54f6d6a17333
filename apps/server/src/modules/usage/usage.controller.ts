import { Controller, Get, Query } from '@nestjs/common';
import { UsageQuery } from '@yoke/protocol';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Audited } from '../audit/audited';
import { UsageService } from './usage.service';

/**
 * Usage and cost reports. Any member of the org may ask (rule `auditor`, the lowest role); what they get depends on
 * their role: the org's calls for owners, admins and auditors, their own for a member. Share-link guests never.
 */
@Controller('usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /** An org-wide report is a read of governance data (who spent what) and records `usage.report_read`. */
  @Allow('auditor')
  @Audited('usage.report_read')
  @Get()
  report(@CurrentPrincipal() p: Principal, @Query(new ZodPipe(UsageQuery)) q: UsageQuery) {
    return this.usage.report(p, q);
  }
}
