/** What every journey of bench/journeys reports, and the table it is printed in. */
import os from 'node:os';

export type Verdict = 'PASS' | 'FAIL' | 'not asserted (smoke)' | 'no target';

export interface JourneyRow {
  journey: string;
  mode: 'team' | 'embedded';
  /** Milliseconds, sorted ascending. */
  times: number[];
  /** HTTP requests + socket events the client sends per operation. */
  reqPerOp: number;
  /** SQL statements per operation (from the statement counter), null where it cannot be counted. */
  sqlPerOp: number | null;
  /** The baseline this journey is judged against, measured in the same run. */
  baseline?: { label: string; p50: number };
  /** e.g. "p50 ≤ 2x direct SQL"; empty when the issue sets none. */
  target: string;
  verdict: Verdict;
}

/** The machine's load averages (1, 5, 15 minutes), as printed beside every figure. */
export function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function sorted(xs: number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Times `op` `runs` times in sequence (after `warm` untimed runs); milliseconds, sorted. */
export async function timeRuns(runs: number, op: (i: number) => Promise<unknown>, warm = 0): Promise<number[]> {
  for (let i = 0; i < warm; i++) await op(-1 - i);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await op(i);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

export function verdict(smoke: boolean, pass: boolean): Verdict {
  return smoke ? 'not asserted (smoke)' : pass ? 'PASS' : 'FAIL';
}

const f = (x: number, w = 8) => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : 2) : '–').padStart(w);

/** One line per row; every row starts with `journey:` so that a reader (the CI smoke test) can find them. */
export function printRows(rows: JourneyRow[]): void {
  console.log(
    `\n${'journey (ms)'.padEnd(49)} ${'mode'.padEnd(8)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ` +
      `${'p99'.padStart(8)} ${'rps'.padStart(6)} ${'req/op'.padStart(6)} ${'SQL/op'.padStart(6)} ` +
      `${'baseline p50'.padStart(12)}  target`,
  );
  for (const r of rows) {
    const mean = r.times.reduce((s, x) => s + x, 0) / r.times.length;
    const base = r.baseline ? `${f(r.baseline.p50, 8)} ${r.baseline.label}` : '–';
    console.log(
      `journey: ${r.journey.padEnd(40)} ${r.mode.padEnd(8)} ${f(pct(r.times, 50))} ${f(pct(r.times, 95))} ` +
        `${f(pct(r.times, 99))} ${(1000 / mean).toFixed(1).padStart(6)} ${String(r.reqPerOp).padStart(6)} ` +
        `${(r.sqlPerOp === null ? 'n/a' : r.sqlPerOp.toFixed(1)).padStart(6)} ${base.padStart(12)}  ` +
        `${r.target ? `${r.target}: ` : ''}${r.verdict}`,
    );
  }
}

/** The rows as one JSON line (`journeys-json: [...]`), for a reader that checks them. */
export function printJson(rows: JourneyRow[]): void {
  const out = rows.map((r) => ({
    journey: r.journey,
    mode: r.mode,
    p50: pct(r.times, 50),
    p95: pct(r.times, 95),
    p99: pct(r.times, 99),
    runs: r.times.length,
    reqPerOp: r.reqPerOp,
    sqlPerOp: r.sqlPerOp,
    baselineP50: r.baseline?.p50 ?? null,
    verdict: r.verdict,
  }));
  console.log(`journeys-json: ${JSON.stringify(out)}`);
}
