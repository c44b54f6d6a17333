import { Injectable } from '@nestjs/common';
import {
  type BudgetScope,
  budgetMonth,
  budgetPolicyName,
  type InboxInput,
  type ItemDraft,
  MICROS_PER_USD,
} from '@yoke/protocol';
import { type AuditEntry, AuditTrail, SYSTEM_ACTOR } from '../audit/audit-trail.service';
import { type BudgetRow, BudgetsRepository, type MonthTotal } from './budgets.repository';

/** An input that pauses the session for a human's confirmation, under its idempotency key in the session's inbox. */
export type BudgetHold = { input: Extract<InboxInput, { kind: 'budget_hold' }>; key: string };

/**
 * Counts a session's freshly stored metered calls against the org's monthly budgets, in the transaction that stores
 * them (docs/governance.md, "Budgets"): adds them to the month's totals of the org, the user and the agent; records
 * `budget.threshold_crossed` once per budget, month and threshold; and, where this month's spend reached a cap, asks
 * for a `budget_hold` of the session (with `budget.cap_reached`) unless the session already has one for that budget
 * this month. A late call of a past month counts, and alerts, in that month; it holds nobody.
 */
@Injectable()
export class BudgetLedger {
  constructor(
    private readonly repo: BudgetsRepository,
    private readonly trail: AuditTrail,
  ) {}

  async settle(
    session: { id: string; orgId: string },
    appended: ItemDraft[],
    now: Date = new Date(),
  ): Promise<BudgetHold[]> {
    const seqs = appended.filter((d) => d.type === 'metered_usage').map((d) => d.seq);
    const totals = await this.repo.addToMonthTotals(session.orgId, session.id, seqs);
    if (totals.length === 0) return [];
    const budgets = await this.repo.budgetsOn(session.orgId, uniqueKeys(totals));
    const thisMonth = budgetMonth(now);
    const events: AuditEntry[] = [];
    const holds: BudgetHold[] = [];
    for (const total of totals) {
      for (const budget of budgets.filter((b) => b.scope === total.scope && b.target === total.target)) {
        const month = budgetMonth(total.month);
        const facts = figures(budget, total, month);
        const reached = budget.alertAt.filter((t) => total.costMicros * 100n >= budget.capMicros * BigInt(t));
        for (const threshold of await this.repo.markAlerted(session.orgId, budget.id, total.month, reached)) {
          events.push({
            orgId: session.orgId,
            action: 'budget.threshold_crossed',
            actor: SYSTEM_ACTOR,
            target: { kind: 'budget', id: budget.id },
            sessionId: session.id,
            details: { ...facts, threshold },
          });
        }
        if (month !== thisMonth || total.costMicros < budget.capMicros) continue;
        const key = `budget:${budget.id}:${month}`;
        if (await this.repo.hasInput(session.orgId, session.id, key)) continue;
        const policy = budgetPolicyName(budget.scope as BudgetScope, budget.target || null);
        holds.push({
          key,
          input: {
            kind: 'budget_hold',
            budgetId: budget.id,
            month,
            policy,
            reason:
              `monthly budget ${policy}: ${usd(total.costMicros)} of ${usd(budget.capMicros)} spent in ${month} ` +
              '(the cap is reached); confirm to go on',
          },
        });
        events.push({
          orgId: session.orgId,
          action: 'budget.cap_reached',
          actor: SYSTEM_ACTOR,
          target: { kind: 'budget', id: budget.id },
          sessionId: session.id,
          details: facts,
        });
      }
    }
    if (events.length) await this.trail.record(...events);
    return holds;
  }
}

function figures(budget: BudgetRow, total: MonthTotal, month: string) {
  return {
    budgetId: budget.id,
    scope: budget.scope,
    target: budget.target || null,
    month,
    spentMicros: Number(total.costMicros),
    capMicros: Number(budget.capMicros),
  };
}

function uniqueKeys(totals: MonthTotal[]): { scope: BudgetScope; target: string }[] {
  const seen = new Map<string, { scope: BudgetScope; target: string }>();
  for (const t of totals) seen.set(`${t.scope}\u0000${t.target}`, { scope: t.scope, target: t.target });
  return [...seen.values()];
}

/** Exact dollars: at least two decimals, up to six (`$0.015`, `$1.00`). */
function usd(micros: bigint): string {
  const unit = BigInt(MICROS_PER_USD);
  const cents = (micros % unit).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `$${micros / unit}.${cents}`;
}
