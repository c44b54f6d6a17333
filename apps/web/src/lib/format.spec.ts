import { formatWaited } from '@/lib/format';

describe('formatWaited', () => {
  it('reads in the largest sensible unit', () => {
    expect(formatWaited(40_000)).toBe('40 s');
    expect(formatWaited(12 * 60_000 + 5_000)).toBe('12 min');
    expect(formatWaited(185 * 60_000)).toBe('3 h 5 min');
    expect(formatWaited(50 * 3_600_000)).toBe('2 d');
    expect(formatWaited(-5)).toBe('0 s');
  });
});
