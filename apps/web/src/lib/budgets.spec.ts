import { formatMicros, parseAlerts, parseDollars } from '@/lib/budgets';

describe('budget form', () => {
  it('reads a cap in dollars as exact micro-dollars, and refuses anything else with a message', () => {
    expect(parseDollars('25')).toEqual({ ok: true, micros: 25_000_000 });
    expect(parseDollars(' $1,000.50 ')).toEqual({ ok: true, micros: 1_000_500_000 });
    expect(parseDollars('0.000001')).toEqual({ ok: true, micros: 1 });
    expect(parseDollars('0.1')).toEqual({ ok: true, micros: 100_000 });
    for (const bad of ['0', '0.00', '', '-5', '1.0000001', 'ten', '1e3']) expect(parseDollars(bad).ok).toBe(false);
  });

  it('reads thresholds as sorted unique percents from 1 to 100, at most ten', () => {
    expect(parseAlerts('80, 50,100 50%')).toEqual({ ok: true, alertAt: [50, 80, 100] });
    expect(parseAlerts('')).toEqual({ ok: true, alertAt: [] });
    for (const bad of ['0', '101', '50.5', 'half', '1,2,3,4,5,6,7,8,9,10,11']) expect(parseAlerts(bad).ok).toBe(false);
  });

  it('shows exact dollars: at least two decimals, up to six', () => {
    expect(formatMicros(0)).toBe('$0.00');
    expect(formatMicros(15_000)).toBe('$0.015');
    expect(formatMicros(1)).toBe('$0.000001');
    expect(formatMicros(1_250_500_000)).toBe('$1,250.50');
  });
});
