'use client';

import { formatMicrosUsd, MICROS_PER_USD, type UsageReport } from '@yoke/protocol';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

type Point = { day: string; usd: number; costMicros: number };

/**
 * Recharts draws its SVG with presentation attributes (fill, stroke), which any class outranks: these put the bars,
 * grid and axes on the theme's colours, light and dark.
 */
const CHART = [
  'm-0 min-w-0',
  '[&_.recharts-bar-rectangle_path]:fill-accent',
  '[&_.recharts-cartesian-grid_line]:stroke-border [&_.recharts-cartesian-axis-line]:stroke-border',
  '[&_.recharts-cartesian-axis-tick-value]:fill-muted [&_.recharts-cartesian-axis-tick-value]:text-xs',
].join(' ');

/** The tooltip box is styled inline by Recharts, so its colours go in the same way. */
const TOOLTIP = {
  background: 'var(--surface)',
  borderColor: 'var(--border)',
  color: 'var(--text)',
  borderRadius: 'var(--radius-sm)',
};

/**
 * Cost per UTC day of the report's range, as bars. The bar heights are dollars as floats (a picture); every figure
 * shown as text is formatted from the integer micro-dollars.
 */
export function UsageChart({ daily }: { daily: UsageReport['daily'] }) {
  const data: Point[] = daily.map((d) => ({
    day: d.day,
    usd: d.costMicros / MICROS_PER_USD,
    costMicros: d.costMicros,
  }));
  const total = daily.reduce((s, d) => s + d.costMicros, 0);
  return (
    <figure className={CHART} data-testid="usage-chart" data-days={daily.length}>
      <figcaption className="sr-only">
        Cost per day, {daily.length} days from {daily[0]?.day ?? '—'}: {formatMicrosUsd(total)} in all. The table below
        has the figures.
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} />
          <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(8)} tickLine={false} minTickGap={8} />
          <YAxis tickFormatter={(v: number) => `$${v}`} tickLine={false} axisLine={false} width={56} />
          <Tooltip
            cursor={{ className: 'fill-surface-2' }}
            formatter={(_v, _n, item) => [formatMicrosUsd((item.payload as Point).costMicros), 'Cost']}
            labelFormatter={(d) => String(d)}
            contentStyle={TOOLTIP}
          />
          <Bar dataKey="usd" name="Cost" isAnimationActive={false} minPointSize={0} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
