import { z } from 'zod';
import { IsoDate, Uuid } from './common';

/**
 * Monthly budgets (docs/governance.md, "Budgets"): a cap in micro-dollars on what the org, one user or one agent
 * spends in a calendar month (UTC), counted from the calls the egress proxy metered. Each threshold of `alertAt` is an
 * audit event once per month; at the cap, every session that spends on the budget is paused for a human's
 * confirmation (a `budget_hold` inbox input).
 */

export const BudgetScope = z.enum(['org', 'user', 'agent']);
export type BudgetScope = z.infer<typeof BudgetScope>;

/** Up to a billion dollars, in micro-dollars: well inside a JSON number's exact integers. */
export const MAX_BUDGET_MICROS = 1_000_000_000 * 1_000_000;
export const MAX_BUDGET_ALERTS = 10;

export const BudgetCap = z.number().int().positive().max(MAX_BUDGET_MICROS);

/** Percent thresholds of the cap, each 1..100; stored sorted, without repeats. */
export const BudgetAlerts = z
  .array(z.number().int().min(1).max(100))
  .max(MAX_BUDGET_ALERTS)
  .transform((a) => [...new Set(a)].sort((x, y) => x - y));

const AgentName = z.string().min(1).max(200);

/** `target`: the user's id for a user budget, the agent's name for an agent budget, nothing for the org's. */
export const CreateBudgetBody = z.discriminatedUnion('scope', [
  z.strictObject({ scope: z.literal('org'), capMicros: BudgetCap, alertAt: BudgetAlerts.default([50, 80, 100]) }),
  z.strictObject({
    scope: z.literal('user'),
    target: Uuid,
    capMicros: BudgetCap,
    alertAt: BudgetAlerts.default([50, 80, 100]),
  }),
  z.strictObject({
    scope: z.literal('agent'),
    target: AgentName,
    capMicros: BudgetCap,
    alertAt: BudgetAlerts.default([50, 80, 100]),
  }),
]);
export type CreateBudgetBody = z.infer<typeof CreateBudgetBody>;

/** A budget's scope and target never change (delete it and create another); its cap and thresholds do. */
export const UpdateBudgetBody = z
  .strictObject({ capMicros: BudgetCap.optional(), alertAt: BudgetAlerts.optional() })
  .refine((b) => b.capMicros !== undefined || b.alertAt !== undefined, 'change `capMicros` or `alertAt`');
export type UpdateBudgetBody = z.infer<typeof UpdateBudgetBody>;

export const BudgetView = z.strictObject({
  id: Uuid,
  scope: BudgetScope,
  /** User id, agent name; null for the org's budget. */
  target: z.string().nullable(),
  /** A readable name for the target (the user's email), where there is one. */
  label: z.string().nullable(),
  capMicros: z.number().int().positive(),
  alertAt: z.array(z.number().int().min(1).max(100)),
  /** The month the figures below cover, `YYYY-MM` (UTC). */
  month: z.string().regex(/^\d{4}-\d{2}$/),
  /** Metered spend on this budget this month, integer micro-dollars. */
  spentMicros: z.number().int().nonnegative(),
  /** spent / cap, in percent, rounded down (may pass 100). */
  percent: z.number().int().nonnegative(),
  /** Thresholds that alerted this month. */
  crossed: z.array(z.number().int().min(1).max(100)),
  createdBy: Uuid.nullable(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type BudgetView = z.infer<typeof BudgetView>;

export const BudgetList = z.strictObject({ budgets: z.array(BudgetView) });
export type BudgetList = z.infer<typeof BudgetList>;

/** `YYYY-MM` of a moment, in UTC: the month a call counts in. */
export function budgetMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The policy name an approval for a budget hold carries: `budget:org`, `budget:user:<id>`, `budget:agent:<name>`. */
export function budgetPolicyName(scope: BudgetScope, target: string | null): string {
  return scope === 'org' || !target ? 'budget:org' : `budget:${scope}:${target}`;
}
