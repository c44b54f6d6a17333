'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { formatMicrosUsd, type UsageFigures, type UsageReport, type UsageRow } from '@yoke/protocol';
import { useEffect, useMemo, useState } from 'react';
import { fetchUsage } from '@/components/usage/usage-api';
import { UsageChart } from '@/components/usage/usage-chart';
import {
  GROUPING_LABEL,
  monthRange,
  readView,
  shiftMonth,
  TABLE_GROUPINGS,
  type TableGrouping,
  type UsageView,
  utcMonth,
  viewSearch,
} from '@/components/usage/usage-query';
import { useToken } from '@/hooks/use-token';
import { ApiError, describeError } from '@/lib/api';

type Load =
  | { kind: 'loading' }
  | { kind: 'ok'; report: UsageReport }
  | { kind: 'forbidden' }
  | { kind: 'signed-out' }
  | { kind: 'error'; message: string };

/**
 * `/usage/`: what model calls cost, metered at the sandbox's egress proxy, for one UTC month: a chart of the cost
 * per day and a table broken down by user, model, harness, agent or session, with its total. Owners, admins and
 * auditors see the org; a member sees their own calls. The view lives in the address bar (`?by=&month=`).
 */
/** A control's label, small and muted above it. */
const CONTROL_LABEL = 'mb-1 block text-sm text-muted';

/** The chart and the table each sit in a card on the surface colour. */
const SECTION = 'my-4 rounded-lg border border-border bg-surface px-3.5 py-3';
const SECTION_TITLE = 'mt-0 mb-2 text-[17px]';

/** A figure in the table: right-aligned on one line, so the columns of digits line up. */
const CELL = 'border-b border-border px-2 py-1.5 text-right whitespace-nowrap';
/** The row's name (a session, user, agent or model): cut short with an ellipsis past 22em. */
const NAME_CELL =
  'max-w-[22em] overflow-hidden border-b border-border px-2 py-1.5 text-left font-medium text-ellipsis whitespace-nowrap';
const HEAD_CELL = `${CELL} text-sm font-semibold text-muted`;
/** The totals row, set off by a heavier rule above it. */
const TOTAL_CELL = 'border-t-2 border-border px-2 py-1.5 whitespace-nowrap';

export function UsagePage() {
  const params = useSearchParams();
  const router = useRouter();
  const token = useToken();
  const [now] = useState(() => new Date());
  const view = useMemo(() => readView(params, now), [params, now]);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });

  useEffect(() => {
    const ctrl = new AbortController();
    setLoad({ kind: 'loading' });
    fetchUsage({ by: view.by, ...monthRange(view.month) }, ctrl.signal).then(
      (report) => setLoad({ kind: 'ok', report }),
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        if (err instanceof ApiError && err.code === 'auth.forbidden') setLoad({ kind: 'forbidden' });
        else if (err instanceof ApiError && err.status === 401) setLoad({ kind: 'signed-out' });
        else setLoad({ kind: 'error', message: describeError(err) });
      },
    );
    return () => ctrl.abort();
  }, [view.by, view.month, token]);

  const show = (next: Partial<UsageView>) =>
    router.push(`/usage/?${viewSearch({ ...view, ...next })}`, { scroll: false });

  return (
    <div className="page" data-testid="usage-page" data-state={load.kind}>
      <div className="page-head">
        <div>
          <h1>Usage</h1>
          <p className="muted small m-0">
            Model calls and their cost, metered at the sandbox&apos;s egress proxy. Days are UTC.
            {load.kind === 'ok' && (
              <span data-testid="usage-scope">
                {load.report.scope === 'org' ? ' Everyone in this org.' : ' Your own calls only.'}
              </span>
            )}
          </p>
        </div>
      </div>

      <form
        className="my-3 flex flex-wrap items-end gap-3"
        aria-label="Usage report"
        onSubmit={(e) => e.preventDefault()}
      >
        <label className="field">
          <span className={CONTROL_LABEL}>Group by</span>
          <select
            className="min-w-[160px]"
            value={view.by}
            onChange={(e) => show({ by: e.target.value as TableGrouping })}
            data-testid="usage-by"
          >
            {TABLE_GROUPINGS.map((g) => (
              <option key={g} value={g}>
                {GROUPING_LABEL[g]}
              </option>
            ))}
          </select>
        </label>
        <div className="field">
          <label htmlFor="usage-month" className={CONTROL_LABEL}>
            Month (UTC)
          </label>
          <div className="flex gap-1.5">
            <button
              type="button"
              className="secondary px-3 py-1.5"
              aria-label="Previous month"
              onClick={() => show({ month: shiftMonth(view.month, -1) })}
            >
              ‹
            </button>
            <input
              id="usage-month"
              className="w-[11em]"
              type="month"
              value={view.month}
              max={utcMonth(now)}
              onChange={(e) => e.target.value && show({ month: e.target.value })}
              data-testid="usage-month"
            />
            <button
              type="button"
              className="secondary px-3 py-1.5"
              aria-label="Next month"
              disabled={view.month >= utcMonth(now)}
              onClick={() => show({ month: shiftMonth(view.month, 1) })}
            >
              ›
            </button>
          </div>
        </div>
      </form>

      {load.kind === 'loading' && <p className="muted">Loading…</p>}
      {load.kind === 'forbidden' && (
        <div className="notice" role="alert" data-testid="usage-forbidden">
          <p>
            <strong>Usage reports are for members of the org.</strong> A share link opens its one session only.
          </p>
        </div>
      )}
      {load.kind === 'signed-out' && (
        <p className="banner banner-error" role="alert">
          Sign in, or set an API token on the <Link href="/">sessions page</Link>, to see usage.
        </p>
      )}
      {load.kind === 'error' && (
        <p className="banner banner-error" role="alert">
          The usage report could not be read: {load.message}
        </p>
      )}
      {load.kind === 'ok' && <UsageReportView report={load.report} by={view.by} />}
    </div>
  );
}

function UsageReportView({ report, by }: { report: UsageReport; by: TableGrouping }) {
  return (
    <>
      <section className={SECTION} aria-labelledby="usage-chart-title">
        <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
          <h2 id="usage-chart-title" className={SECTION_TITLE}>
            Cost per day
          </h2>
          <span className="font-semibold tabular-nums" data-testid="usage-chart-total">
            {formatMicrosUsd(report.total.costMicros)}
          </span>
        </div>
        <UsageChart daily={report.daily} />
      </section>
      <section className={SECTION} aria-labelledby="usage-table-title">
        <h2 id="usage-table-title" className={SECTION_TITLE}>
          By {GROUPING_LABEL[by].toLowerCase()}
        </h2>
        {report.rows.length === 0 ? (
          <p className="empty" data-testid="usage-empty">
            No metered calls this month.
          </p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full border-collapse tabular-nums" data-testid="usage-table">
              <thead>
                <tr>
                  <th scope="col" className={`${NAME_CELL} text-sm text-muted`}>
                    {GROUPING_LABEL[by]}
                  </th>
                  <th scope="col" className={HEAD_CELL}>
                    Calls
                  </th>
                  <th scope="col" className={HEAD_CELL}>
                    Input
                  </th>
                  <th scope="col" className={HEAD_CELL}>
                    Output
                  </th>
                  <th scope="col" className={HEAD_CELL}>
                    Cache read
                  </th>
                  <th scope="col" className={HEAD_CELL}>
                    Cache write
                  </th>
                  <th scope="col" className={HEAD_CELL}>
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.rows.map((r) => (
                  <tr key={r.key} data-testid="usage-row" data-key={r.key}>
                    <th scope="row" className={NAME_CELL}>
                      <RowName row={r} by={by} />
                    </th>
                    <Figures f={r} cell={CELL} />
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr data-testid="usage-total">
                  <th
                    scope="row"
                    className={`${TOTAL_CELL} max-w-[22em] overflow-hidden text-left font-medium text-ellipsis`}
                  >
                    Total
                  </th>
                  <Figures f={report.total} cell={`${TOTAL_CELL} text-right font-bold`} />
                </tr>
              </tfoot>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function RowName({ row, by }: { row: UsageRow; by: TableGrouping }) {
  if (by === 'session') {
    return (
      <Link href={`/session/?id=${encodeURIComponent(row.key)}`} title={row.key}>
        {row.label ?? row.key}
      </Link>
    );
  }
  return <span title={row.label ? row.key : undefined}>{row.label ?? row.key}</span>;
}

const count = (n: number) => n.toLocaleString('en-US');

function Figures({ f, cell }: { f: UsageFigures; cell: string }) {
  return (
    <>
      <td className={cell}>{count(f.calls)}</td>
      <td className={cell}>{count(f.inputTokens)}</td>
      <td className={cell}>{count(f.outputTokens)}</td>
      <td className={cell}>{count(f.cacheReadTokens)}</td>
      <td className={cell}>{count(f.cacheWriteTokens)}</td>
      <td className={cell} data-testid="usage-cost">
        {formatMicrosUsd(f.costMicros)}
      </td>
    </>
  );
}
