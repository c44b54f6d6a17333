import { Injectable } from '@nestjs/common';
import type { BudgetScope } from '@yoke/protocol';
import type { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type BudgetRow = Prisma.BudgetGetPayload<object>;
/** A month's total of one scope and target after the calls of a batch were added. */
export type MonthTotal = { month: Date; scope: BudgetScope; target: string; costMicros: bigint };

/** Budgets, the monthly usage rollup and the thresholds that alerted; every method is scoped by org. */
@Injectable()
export class BudgetsRepository {
  constructor(private readonly db: Transactions) {}

  private get prisma() {
    return this.db.client;
  }

  list(orgId: string) {
    return this.prisma.budget.findMany({ where: { orgId }, orderBy: [{ scope: 'asc' }, { target: 'asc' }] });
  }

  find(orgId: string, id: string) {
    return this.prisma.budget.findFirst({ where: { orgId, id } });
  }

  /** Creates the budget; null when the org already has one for this scope and target. */
  async create(data: {
    orgId: string;
    scope: BudgetScope;
    target: string;
    capMicros: bigint;
    alertAt: number[];
    createdBy: string;
  }): Promise<BudgetRow | null> {
    const [row] = await this.prisma.budget.createManyAndReturn({ data: [data], skipDuplicates: true });
    return row ?? null;
  }

  update(orgId: string, id: string, data: { capMicros?: bigint; alertAt?: number[] }) {
    return this.prisma.budget.update({ where: { id, orgId }, data });
  }

  async delete(orgId: string, id: string): Promise<void> {
    await this.prisma.budget.deleteMany({ where: { orgId, id } });
  }

  isMember(orgId: string, userId: string): Promise<boolean> {
    return this.prisma.membership.findFirst({ where: { orgId, userId }, select: { userId: true } }).then(Boolean);
  }

  /** Emails of the org's users among `ids`. */
  async emails(orgId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.membership.findMany({
      where: { orgId, userId: { in: ids } },
      select: { userId: true, user: { select: { email: true } } },
    });
    return new Map(rows.map((r) => [r.userId, r.user.email]));
  }

  /** The month's totals of the org for these scopes and targets. */
  monthTotals(orgId: string, month: Date) {
    return this.prisma.usageMonthTotal.findMany({ where: { orgId, month } });
  }

  /** The thresholds that alerted in the month, per budget. */
  alertsOf(orgId: string, month: Date) {
    return this.prisma.budgetAlert.findMany({ where: { orgId, month }, orderBy: { threshold: 'asc' } });
  }

  /**
   * Adds the metered calls stored under these item seqs of the session to their months' totals of the org, the user
   * whose spend each is and its agent, in one statement (rows in key order, so concurrent batches of one org lock
   * the totals in the same order); returns the new totals of what it touched.
   */
  async addToMonthTotals(orgId: string, sessionId: string, seqs: number[]): Promise<MonthTotal[]> {
    if (seqs.length === 0) return [];
    const rows = await this.prisma.$queryRaw<{ month: Date; scope: BudgetScope; target: string; cost: bigint }[]>`
      INSERT INTO usage_month_totals AS t (org_id, month, scope, target, cost_micros)
      SELECT m.org_id, date_trunc('month', m.at AT TIME ZONE 'UTC')::date, s.scope, s.target, sum(m.cost_micros)
      FROM metered_usage m
      CROSS JOIN LATERAL (VALUES ('org', ''), ('user', m.user_id::text), ('agent', m.agent)) AS s(scope, target)
      WHERE m.org_id = ${orgId}::uuid AND m.session_id = ${sessionId}::uuid AND m.item_seq = ANY(${seqs}::int[])
      GROUP BY 1, 2, 3, 4
      ORDER BY 2, 3, 4
      ON CONFLICT (org_id, month, scope, target) DO UPDATE SET cost_micros = t.cost_micros + EXCLUDED.cost_micros
      RETURNING t.month, t.scope, t.target, t.cost_micros AS cost`;
    return rows.map((r) => ({ month: r.month, scope: r.scope, target: r.target, costMicros: r.cost }));
  }

  /** The org's budgets on any of these scope/target pairs. */
  budgetsOn(orgId: string, keys: { scope: BudgetScope; target: string }[]) {
    if (keys.length === 0) return Promise.resolve([] as BudgetRow[]);
    return this.prisma.budget.findMany({
      where: { orgId, OR: keys.map((k) => ({ scope: k.scope, target: k.target })) },
    });
  }

  /** Records the thresholds as alerted for the month; returns those that had not alerted before. */
  async markAlerted(orgId: string, budgetId: string, month: Date, thresholds: number[]): Promise<number[]> {
    if (thresholds.length === 0) return [];
    const rows = await this.prisma.budgetAlert.createManyAndReturn({
      data: thresholds.map((threshold) => ({ orgId, budgetId, month, threshold })),
      skipDuplicates: true,
      select: { threshold: true },
    });
    return rows.map((r) => r.threshold).sort((a, b) => a - b);
  }

  /** Whether the session's inbox already holds an input under this key (a budget hold of this month). */
  async hasInput(orgId: string, sessionId: string, key: string): Promise<boolean> {
    const row = await this.prisma.inboxEntry.findFirst({
      where: { orgId, sessionId, idempotencyKey: key },
      select: { id: true },
    });
    return row !== null;
  }
}
