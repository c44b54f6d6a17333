import { paletteFilter } from './palette-filter';

describe('the command palette filter', () => {
  const deploy = 'Deploy check 3f2a9c1e-1234-4abc-9def-0123456789ab';
  const refactor = 'Refactor the auth module 7b1d9c1e-1234-4abc-9def-0123456789ab';

  it('keeps only items holding every word typed, in any order', () => {
    expect(paletteFilter(refactor, 'refactor auth', ['helper'])).toBeGreaterThan(0);
    expect(paletteFilter(refactor, 'auth refactor')).toBeGreaterThan(0);
    expect(paletteFilter(deploy, 'refactor auth', ['helper', 'idle'])).toBe(0);
    expect(paletteFilter(deploy, 'rfctr')).toBe(0);
  });

  it('matches keywords and ids, and ranks a match at the start first', () => {
    expect(paletteFilter(deploy, 'idle', ['helper', 'idle'])).toBeGreaterThan(0);
    expect(paletteFilter(deploy, '3f2a9c1e')).toBeGreaterThan(0);
    expect(paletteFilter(deploy, 'deploy')).toBeGreaterThan(paletteFilter(deploy, 'check'));
    expect(paletteFilter(deploy, 'check')).toBeGreaterThan(paletteFilter(deploy, 'ploy'));
    expect(paletteFilter(deploy, '   ')).toBe(1);
  });
});
