import { Module } from '@nestjs/common';
import { BudgetLedger } from './budget-ledger.service';
import { BudgetsController } from './budgets.controller';
import { BudgetsRepository } from './budgets.repository';
import { BudgetsService } from './budgets.service';

/**
 * Monthly budgets (docs/governance.md, "Budgets"): the REST routes, and the ledger the sessions module calls in the
 * transaction that stores a runner's items. AuditTrail comes from the global AuditModule.
 */
@Module({
  controllers: [BudgetsController],
  providers: [BudgetsRepository, BudgetsService, BudgetLedger],
  exports: [BudgetLedger],
})
export class BudgetsModule {}
