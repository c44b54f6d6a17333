import { MAX_BUDGET_ALERTS, MICROS_PER_USD } from '@yoke/protocol';

/** Micro-dollars as exact dollars: at least two decimals, up to six (`$0.015`, `$1.00`, `$1,250.50`). */
export function formatMicros(micros: number): string {
  const whole = Math.floor(micros / MICROS_PER_USD);
  const frac = String(micros % MICROS_PER_USD)
    .padStart(6, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `$${whole.toLocaleString('en-US')}.${frac}`;
}

/** A cap typed in dollars ("25", "0.50", "$1,000") to integer micro-dollars; an error for anything else. */
export function parseDollars(text: string): { ok: true; micros: number } | { ok: false; error: string } {
  const clean = text.trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^\d+(\.\d{1,6})?$/.test(clean)) return { ok: false, error: 'Enter an amount in dollars, such as 25 or 0.50.' };
  const [whole, frac = ''] = clean.split('.');
  const micros = Number(whole) * MICROS_PER_USD + Number(frac.padEnd(6, '0'));
  if (!Number.isSafeInteger(micros) || micros <= 0) return { ok: false, error: 'The cap must be more than $0.' };
  return { ok: true, micros };
}

/** Thresholds typed as "50, 80, 100" to sorted unique percents 1..100 (at most MAX_BUDGET_ALERTS). */
export function parseAlerts(text: string): { ok: true; alertAt: number[] } | { ok: false; error: string } {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.replace(/%$/, ''))
    .filter(Boolean);
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 100)) {
    return { ok: false, error: 'Whole percents from 1 to 100, separated by commas.' };
  }
  const alertAt = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  if (alertAt.length > MAX_BUDGET_ALERTS) return { ok: false, error: `At most ${MAX_BUDGET_ALERTS} thresholds.` };
  return { ok: true, alertAt };
}
