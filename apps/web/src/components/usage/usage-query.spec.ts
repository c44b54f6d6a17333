import { monthRange, readView, shiftMonth, viewSearch } from '@/components/usage/usage-query';

const params = (q: string) => new URLSearchParams(q);
const now = new Date('2026-11-17T10:00:00Z');

describe('usage page view', () => {
  it('reads the grouping and month from the address bar, falling back to by user this UTC month', () => {
    expect(readView(params('by=model&month=2026-02'), now)).toEqual({ by: 'model', month: '2026-02' });
    expect(readView(params('by=day&month=2026-13'), now)).toEqual({ by: 'user', month: '2026-11' });
    expect(readView(params(''), new Date('2026-11-30T23:59:59.999-05:00'))).toEqual({ by: 'user', month: '2026-12' });
    expect(viewSearch({ by: 'session', month: '2026-11' })).toBe('by=session&month=2026-11');
  });

  it('turns a month into [its first instant, the next month) in UTC, across years', () => {
    expect(monthRange('2026-12')).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
    expect(monthRange('2028-02')).toEqual({ from: '2028-02-01T00:00:00.000Z', to: '2028-03-01T00:00:00.000Z' });
    expect(shiftMonth('2026-01', -1)).toBe('2025-12');
    expect(shiftMonth('2026-12', 1)).toBe('2027-01');
  });
});
