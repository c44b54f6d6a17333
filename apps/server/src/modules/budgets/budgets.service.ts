import { Injectable } from '@nestjs/common';
import {
  AppError,
  type BudgetList,
  type BudgetScope,
  type BudgetView,
  budgetMonth,
  type CreateBudgetBody,
  type UpdateBudgetBody,
} from '@yoke/protocol';
import { readsAudit } from '../../core/auth/access';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { type BudgetRow, BudgetsRepository } from './budgets.repository';

/**
 * An org's monthly budgets (docs/governance.md, "Budgets"). Owners and admins create, change and delete them, each
 * change committed with its audit event; everyone in the org reads them, a member only those that concern them: the
 * org's, the agents', and their own (never another member's).
 */
@Injectable()
export class BudgetsService {
  constructor(
    private readonly repo: BudgetsRepository,
    private readonly trail: AuditTrail,
    private readonly tx: Transactions,
  ) {}

  async list(p: Principal, now = new Date()): Promise<BudgetList> {
    const rows = await this.repo.list(p.orgId);
    const visible = readsAudit(p.role, p.memberRole)
      ? rows
      : rows.filter((b) => b.scope !== 'user' || b.target === p.userId);
    return { budgets: await this.views(p.orgId, visible, now) };
  }

  async create(p: Principal, body: CreateBudgetBody): Promise<BudgetView> {
    return this.tx.run(async () => {
      const target = body.scope === 'org' ? '' : body.target;
      if (body.scope === 'user' && !(await this.repo.isMember(p.orgId, target))) {
        throw new AppError('member.not_found', 'no such member');
      }
      const row = await this.repo.create({
        orgId: p.orgId,
        scope: body.scope,
        target,
        capMicros: BigInt(body.capMicros),
        alertAt: body.alertAt,
        createdBy: p.userId,
      });
      if (!row) throw new AppError('budget.exists', `the org already has a budget for this ${body.scope}`);
      await this.trail.record({
        orgId: p.orgId,
        action: 'budget.created',
        target: { kind: 'budget', id: row.id },
        details: { ...describe(row), alertAt: row.alertAt.join(',') },
      });
      return this.view(p.orgId, row);
    });
  }

  async update(p: Principal, id: string, body: UpdateBudgetBody): Promise<BudgetView> {
    return this.tx.run(async () => {
      const before = await this.get(p.orgId, id);
      const row = await this.repo.update(p.orgId, id, {
        ...(body.capMicros !== undefined ? { capMicros: BigInt(body.capMicros) } : {}),
        ...(body.alertAt !== undefined ? { alertAt: body.alertAt } : {}),
      });
      await this.trail.record({
        orgId: p.orgId,
        action: 'budget.updated',
        target: { kind: 'budget', id },
        details: {
          ...describe(row),
          alertAt: row.alertAt.join(','),
          previousCapMicros: Number(before.capMicros),
          previousAlertAt: before.alertAt.join(','),
        },
      });
      return this.view(p.orgId, row);
    });
  }

  async delete(p: Principal, id: string): Promise<void> {
    await this.tx.run(async () => {
      const row = await this.get(p.orgId, id);
      await this.repo.delete(p.orgId, id);
      await this.trail.record({
        orgId: p.orgId,
        action: 'budget.deleted',
        target: { kind: 'budget', id },
        details: describe(row),
      });
    });
  }

  private async get(orgId: string, id: string): Promise<BudgetRow> {
    const row = await this.repo.find(orgId, id);
    if (!row) throw new AppError('budget.not_found', 'no such budget');
    return row;
  }

  private async view(orgId: string, row: BudgetRow): Promise<BudgetView> {
    const [view] = await this.views(orgId, [row], new Date());
    return view;
  }

  /** Budgets with this month's spend (one rollup row each) and the thresholds that alerted this month. */
  private async views(orgId: string, rows: BudgetRow[], now: Date): Promise<BudgetView[]> {
    const month = budgetMonth(now);
    const start = new Date(`${month}-01T00:00:00.000Z`);
    const [totals, alerts, emails] = await Promise.all([
      this.repo.monthTotals(orgId, start),
      this.repo.alertsOf(orgId, start),
      this.repo.emails(
        orgId,
        rows.filter((r) => r.scope === 'user').map((r) => r.target),
      ),
    ]);
    const spent = new Map(totals.map((t) => [`${t.scope}\u0000${t.target}`, t.costMicros]));
    return rows.map((r) => {
      const spentMicros = spent.get(`${r.scope}\u0000${r.target}`) ?? 0n;
      return {
        id: r.id,
        scope: r.scope as BudgetScope,
        target: r.target || null,
        label: r.scope === 'user' ? (emails.get(r.target) ?? null) : null,
        capMicros: Number(r.capMicros),
        alertAt: r.alertAt,
        month,
        spentMicros: Number(spentMicros),
        percent: Number((spentMicros * 100n) / r.capMicros),
        crossed: alerts.filter((a) => a.budgetId === r.id).map((a) => a.threshold),
        createdBy: r.createdBy,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      };
    });
  }
}

function describe(row: BudgetRow) {
  return { scope: row.scope, target: row.target || null, capMicros: Number(row.capMicros) };
}
