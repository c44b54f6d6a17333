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
    <div className="page usage-page" data-testid="usage-page" data-state={load.kind}>
      <div className="page-head">
        <div>
          <h1>Usage</h1>
          <p className="muted small usage-lede">
            Model calls and their cost, metered at the sandbox&apos;s egress proxy. Days are UTC.
            {load.kind === 'ok' && (
              <span data-testid="usage-scope">
                {load.report.scope === 'org' ? ' Everyone in this org.' : ' Your own calls only.'}
              </span>
            )}
          </p>
        </div>
      </div>

      <form className="usage-controls" aria-label="Usage report" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span>Group by</span>
          <select
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
        <div className="field usage-month">
          <label htmlFor="usage-month">Month (UTC)</label>
          <div className="usage-month-row">
            <button
              type="button"
              className="secondary"
              aria-label="Previous month"
              onClick={() => show({ month: shiftMonth(view.month, -1) })}
            >
              ‹
            </button>
            <input
              id="usage-month"
              type="month"
              value={view.month}
              max={utcMonth(now)}
              onChange={(e) => e.target.value && show({ month: e.target.value })}
              data-testid="usage-month"
            />
            <button
              type="button"
              className="secondary"
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
      <section className="usage-section" aria-labelledby="usage-chart-title">
        <div className="usage-section-head">
          <h2 id="usage-chart-title">Cost per day</h2>
          <span className="usage-total-cost" data-testid="usage-chart-total">
            {formatMicrosUsd(report.total.costMicros)}
          </span>
        </div>
        <UsageChart daily={report.daily} />
      </section>
      <section className="usage-section" aria-labelledby="usage-table-title">
        <h2 id="usage-table-title">By {GROUPING_LABEL[by].toLowerCase()}</h2>
        {report.rows.length === 0 ? (
          <p className="empty" data-testid="usage-empty">
            No metered calls this month.
          </p>
        ) : (
          <div className="usage-table-wrap">
            <table className="usage-table" data-testid="usage-table">
              <thead>
                <tr>
                  <th scope="col">{GROUPING_LABEL[by]}</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Input</th>
                  <th scope="col">Output</th>
                  <th scope="col">Cache read</th>
                  <th scope="col">Cache write</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {report.rows.map((r) => (
                  <tr key={r.key} data-testid="usage-row" data-key={r.key}>
                    <th scope="row">
                      <RowName row={r} by={by} />
                    </th>
                    <Figures f={r} />
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr data-testid="usage-total">
                  <th scope="row">Total</th>
                  <Figures f={report.total} />
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

function Figures({ f }: { f: UsageFigures }) {
  return (
    <>
      <td>{count(f.calls)}</td>
      <td>{count(f.inputTokens)}</td>
      <td>{count(f.outputTokens)}</td>
      <td>{count(f.cacheReadTokens)}</td>
      <td>{count(f.cacheWriteTokens)}</td>
      <td data-testid="usage-cost">{formatMicrosUsd(f.costMicros)}</td>
    </>
  );
}
