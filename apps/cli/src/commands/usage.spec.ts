import { formatMicrosUsd, type UsageReport } from '@yoke/protocol';
import { usageCsv, usageTable } from './usage';

const figures = (calls: number, costMicros: number) => ({
  calls,
  inputTokens: calls * 1000,
  outputTokens: calls * 10,
  cacheReadTokens: 0,
  cacheWriteTokens: 1,
  costMicros,
});

const report: UsageReport = {
  by: 'user',
  from: '2026-11-01T00:00:00.000Z',
  to: '2026-12-01T00:00:00.000Z',
  scope: 'org',
  rows: [
    { key: 'u1', label: 'ana@example.test', ...figures(3, 1_234_567_891) },
    { key: 'u2', label: '=cmd, "x"', ...figures(1, 9) },
  ],
  total: figures(4, 1_234_567_900),
  daily: [],
};

describe('yoke usage output', () => {
  it('formats micro-dollars exactly, from the integer', () => {
    expect(formatMicrosUsd(0)).toBe('$0.000000');
    expect(formatMicrosUsd(9)).toBe('$0.000009');
    expect(formatMicrosUsd(1_000_000)).toBe('$1.000000');
    expect(formatMicrosUsd(1_234_567_891)).toBe('$1,234.567891');
    expect(formatMicrosUsd(Number.MAX_SAFE_INTEGER)).toBe('$9,007,199,254.740991');
  });

  it('prints an aligned table with a totals line', () => {
    const lines = usageTable(report).trimEnd().split('\n');
    expect(lines[0]).toContain('Usage by user');
    expect(lines[2]).toMatch(/^USER\s+CALLS\s+INPUT\s+OUTPUT\s+CACHE READ\s+CACHE WRITE\s+COST$/);
    expect(lines[3]).toMatch(/^ana@example\.test\s+3\s+3,000\s+30\s+0\s+1\s+\$1,234\.567891$/);
    expect(lines.at(-1)).toMatch(/^TOTAL\s+4\s+4,000\s+40\s+0\s+1\s+\$1,234\.567900$/);
    // Every line is as wide as the header: the columns line up.
    expect(new Set(lines.slice(2).map((l) => l.length)).size).toBe(1);
  });

  it('writes CSV with a header row, quoting and defusing cells', () => {
    expect(usageCsv(report).split('\n')).toEqual([
      'key,label,calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_micros,cost_usd',
      'u1,ana@example.test,3,3000,30,0,1,1234567891,1234.567891',
      `u2,"'=cmd, ""x""",1,1000,10,0,1,9,0.000009`,
      '',
    ]);
  });
});
