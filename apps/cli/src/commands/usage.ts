import {
  formatMicrosUsd,
  UsageGrouping,
  UsageReport,
  type UsageFigures,
  type UsageQuery,
  type UsageRow,
} from '@yoke/protocol';
import { ApiClient } from '../api-client';
import { resolveServer, resolveToken } from '../server-discovery';

export interface UsageOptions {
  by?: string;
  from?: string;
  to?: string;
  json?: boolean;
  csv?: boolean;
  server?: string;
  home?: string;
}

/**
 * `yoke usage`: metered model calls and their cost, grouped by user, model, harness, agent, session or day, over
 * `[--from, --to)` (default: this UTC month so far). Owners, admins and auditors get the org; a member, their own.
 * A table with a totals line, `--csv` (a header row, one line per group), or `--json` (the report as the API sent it).
 */
export async function usageCommand(opts: UsageOptions): Promise<number> {
  const by = UsageGrouping.safeParse(opts.by ?? 'day');
  if (!by.success) {
    process.stderr.write(`yoke usage: --by is one of ${UsageGrouping.options.join(', ')}\n`);
    return 2;
  }
  if (opts.json && opts.csv) {
    process.stderr.write('yoke usage: --json and --csv are exclusive\n');
    return 2;
  }
  const q: UsageQuery = {
    by: by.data,
    ...(opts.from ? { from: isoOf(opts.from, '--from') } : {}),
    ...(opts.to ? { to: isoOf(opts.to, '--to') } : {}),
  };
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const params = new URLSearchParams(Object.entries(q) as [string, string][]);
  const report = await api.request('GET', `/usage?${params.toString()}`, UsageReport);
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else if (opts.csv) process.stdout.write(usageCsv(report));
  else process.stdout.write(usageTable(report));
  return 0;
}

const COLUMNS: { head: string; of: (f: UsageFigures) => string }[] = [
  { head: 'CALLS', of: (f) => count(f.calls) },
  { head: 'INPUT', of: (f) => count(f.inputTokens) },
  { head: 'OUTPUT', of: (f) => count(f.outputTokens) },
  { head: 'CACHE READ', of: (f) => count(f.cacheReadTokens) },
  { head: 'CACHE WRITE', of: (f) => count(f.cacheWriteTokens) },
  { head: 'COST', of: (f) => formatMicrosUsd(f.costMicros) },
];

/** The report as an aligned table: one line per group, then the totals line. */
export function usageTable(report: UsageReport): string {
  const name = (r: UsageRow) =>
    report.by === 'session' && r.label ? `${r.label} (${r.key.slice(0, 8)})` : (r.label ?? r.key);
  const lines: string[][] = [
    [report.by.toUpperCase(), ...COLUMNS.map((c) => c.head)],
    ...report.rows.map((r) => [name(r), ...COLUMNS.map((c) => c.of(r))]),
    ['TOTAL', ...COLUMNS.map((c) => c.of(report.total))],
  ];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const render = (l: string[]) =>
    l
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const scope = report.scope === 'org' ? 'the org' : 'your own calls';
  return [
    `Usage by ${report.by}, ${report.from} to ${report.to} (exclusive), ${scope}`,
    '',
    render(lines[0]),
    ...lines.slice(1, -1).map(render),
    rule,
    render(lines[lines.length - 1]),
    '',
  ].join('\n');
}

/** One line per group with a header row; `cost_usd` is exact (six decimals), `cost_micros` the integer. */
export function usageCsv(report: UsageReport): string {
  const head = [
    'key',
    'label',
    'calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'cost_micros',
    'cost_usd',
  ];
  const rows = report.rows.map((r) => [
    r.key,
    r.label ?? '',
    r.calls,
    r.inputTokens,
    r.outputTokens,
    r.cacheReadTokens,
    r.cacheWriteTokens,
    r.costMicros,
    formatMicrosUsd(r.costMicros).replace(/[$,]/g, ''),
  ]);
  return [head, ...rows].map((cells) => cells.map((c) => csvCell(String(c))).join(',')).join('\n') + '\n';
}

function csvCell(value: string): string {
  // Quoted when needed; a leading formula character is defused, as a spreadsheet would run it.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const count = (n: number) => n.toLocaleString('en-US');

function isoOf(value: string, flag: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`${flag}: not a date or time: ${value}`);
  return new Date(t).toISOString();
}
