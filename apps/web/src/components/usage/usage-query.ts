import type { UsageGrouping } from '@yoke/protocol';

/** The groupings the breakdown table offers (days are the chart). */
export const TABLE_GROUPINGS = ['user', 'model', 'harness', 'agent', 'session'] as const satisfies UsageGrouping[];
export type TableGrouping = (typeof TABLE_GROUPINGS)[number];

export const GROUPING_LABEL: Record<TableGrouping, string> = {
  user: 'User',
  model: 'Model',
  harness: 'Harness',
  agent: 'Agent',
  session: 'Session',
};

/** What the page shows, as kept in the address bar: `?by=model&month=2026-11`. */
export type UsageView = { by: TableGrouping; month: string };

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** `YYYY-MM` of a time, in UTC (reports count UTC days). */
export function utcMonth(t: Date): string {
  return t.toISOString().slice(0, 7);
}

/** The view in the address bar; anything unknown falls back to by user, this UTC month. */
export function readView(params: { get(name: string): string | null }, now: Date): UsageView {
  const by = params.get('by');
  const month = params.get('month');
  return {
    by: (TABLE_GROUPINGS as readonly string[]).includes(by ?? '') ? (by as TableGrouping) : 'user',
    month: month && MONTH.test(month) ? month : utcMonth(now),
  };
}

export function viewSearch(view: UsageView): string {
  return new URLSearchParams({ by: view.by, month: view.month }).toString();
}

/** The report query of a UTC month: `[its first instant, the next month's)`. */
export function monthRange(month: string): { from: string; to: string } {
  const m = MONTH.exec(month);
  if (!m) throw new Error(`not a month: ${month}`);
  const [y, mo] = [Number(m[1]), Number(m[2])];
  return {
    from: new Date(Date.UTC(y, mo - 1, 1)).toISOString(),
    to: new Date(Date.UTC(y, mo, 1)).toISOString(),
  };
}

/** `YYYY-MM` a number of months away. */
export function shiftMonth(month: string, by: number): string {
  const { from } = monthRange(month);
  const d = new Date(from);
  return utcMonth(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + by, 1)));
}
