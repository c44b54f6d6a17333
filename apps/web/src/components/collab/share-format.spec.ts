import { formatExpiry, formatUses } from './share-format';

describe('share link formatting', () => {
  it('reads the use count with and without a limit', () => {
    expect(formatUses(0, 5)).toBe('0 of 5 uses');
    expect(formatUses(1, 1)).toBe('1 of 1 use');
    expect(formatUses(1, null)).toBe('1 use, no limit');
    expect(formatUses(3, null)).toBe('3 uses, no limit');
  });

  it('reads the expiry relative to now', () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(formatExpiry(null, now)).toBe('never expires');
    expect(formatExpiry('2026-12-05T12:30:00Z', now)).toMatch(/^expires in 30 min \(/);
    expect(formatExpiry('2026-12-05T17:00:00Z', now)).toMatch(/^expires in 5 h \(/);
    expect(formatExpiry('2026-12-12T12:00:00Z', now)).toMatch(/^expires in 7 d \(/);
    expect(formatExpiry('2026-12-05T11:00:00Z', now)).toMatch(/^expired /);
  });
});
