import { Injectable } from '@nestjs/common';
import { AppError, MAX_USAGE_RANGE_DAYS, type UsageQuery, type UsageReport, type UsageRow } from '@yoke/protocol';
import { readsAudit } from '../../core/auth/access';
import type { Principal } from '../../core/auth/principal';
import { AuditTrail } from '../audit/audit-trail.service';
import { UsageRepository } from './usage.repository';

const DAY_MS = 86_400_000;

/**
 * Usage and cost reports over the calls metered at the egress proxy (docs/governance.md). Owners, admins and
 * auditors read the whole org; a member reads their own calls only, whatever token they hold.
 */
@Injectable()
export class UsageService {
  constructor(
    private readonly repo: UsageRepository,
    private readonly trail: AuditTrail,
  ) {}

  async report(principal: Principal, q: UsageQuery, now = new Date()): Promise<UsageReport> {
    const { from, to } = rangeOf(q, now);
    // The same roles as the audit log's readers: a member, even through a read-only token, gets their own calls.
    const scope = readsAudit(principal.role, principal.memberRole) ? 'org' : 'self';
    // One statement: groups, days and total from one snapshot (no transaction held around a long aggregate).
    const sums = await this.repo.sums(principal.orgId, {
      by: q.by,
      from,
      to,
      ...(scope === 'self' ? { userId: principal.userId } : {}),
    });
    if (scope === 'org') {
      // Recorded before the report is returned: when the audit log cannot take it, the report is not served.
      await this.trail.record({
        orgId: principal.orgId,
        action: 'usage.report_read',
        target: { kind: 'usage_report', id: principal.orgId },
        details: { by: q.by, from: from.toISOString(), to: to.toISOString(), rows: sums.rows.length },
      });
    }
    const byDay = new Map(sums.days.map((d) => [d.day, d.costMicros]));
    return {
      by: q.by,
      from: from.toISOString(),
      to: to.toISOString(),
      scope,
      rows: sortRows(q.by, sums.rows),
      total: sums.total,
      daily: daysOf(from, to).map((day) => ({ day, costMicros: byDay.get(day) ?? 0 })),
    };
  }
}

/** `[from, to)`: defaults to the current UTC month so far; refused when empty, reversed or longer than the limit. */
export function rangeOf(q: UsageQuery, now: Date): { from: Date; to: Date } {
  const from = q.from ? new Date(q.from) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = q.to ? new Date(q.to) : now;
  if (from.getTime() >= to.getTime()) {
    throw new AppError('request.invalid', '`from` must be before `to` (from is inclusive, to exclusive)', {
      from: from.toISOString(),
      to: to.toISOString(),
    });
  }
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_DAYS * DAY_MS) {
    throw new AppError('request.invalid', `a usage report covers at most ${MAX_USAGE_RANGE_DAYS} days`);
  }
  return { from, to };
}

/** Every UTC day `[from, to)` touches, as `YYYY-MM-DD`. */
export function daysOf(from: Date, to: Date): string[] {
  const days: string[] = [];
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let t = start; t < to.getTime(); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Days in order; any other grouping by cost, the largest first (then by key, so the order is stable). */
function sortRows(by: UsageQuery['by'], rows: UsageRow[]): UsageRow[] {
  const byKey = (a: UsageRow, b: UsageRow) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return [...rows].sort(by === 'day' ? byKey : (a, b) => b.costMicros - a.costMicros || byKey(a, b));
}
