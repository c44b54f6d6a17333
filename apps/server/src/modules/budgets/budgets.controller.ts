import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { AppError, CreateBudgetBody, UpdateBudgetBody } from '@yoke/protocol';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Audited, NotAudited } from '../audit/audited';
import { BudgetsService } from './budgets.service';

/** An id that is not a uuid names no budget. */
const BudgetId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('budget.not_found', 'no such budget') });

/**
 * Monthly budgets (docs/governance.md, "Budgets"): owners and admins manage them; anyone in the org reads them (a
 * member sees the org's, the agents' and their own).
 */
@Controller('org/budgets')
export class BudgetsController {
  constructor(private readonly budgets: BudgetsService) {}

  @Allow('auditor')
  @NotAudited('caps and spend figures of the org, filtered to what the caller may see; no content')
  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.budgets.list(p);
  }

  @Allow('admin')
  @Audited('budget.created')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateBudgetBody)) body: CreateBudgetBody) {
    return this.budgets.create(p, body);
  }

  @Allow('admin')
  @Audited('budget.updated')
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', BudgetId) id: string,
    @Body(new ZodPipe(UpdateBudgetBody)) body: UpdateBudgetBody,
  ) {
    return this.budgets.update(p, id, body);
  }

  @Allow('admin')
  @Audited('budget.deleted')
  @HttpCode(204)
  @Delete(':id')
  remove(@CurrentPrincipal() p: Principal, @Param('id', BudgetId) id: string) {
    return this.budgets.delete(p, id);
  }
}
