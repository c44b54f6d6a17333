import { clearCookie, setCookie } from './cookies';
import { newUserCode, normalizeUserCode, safeReturnTo } from './sign-in-rules';

describe('device user codes', () => {
  it('are two groups of four letters without vowels', () => {
    for (let i = 0; i < 200; i++)
      expect(newUserCode()).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  });

  it('are read back in any case, with or without separators', () => {
    expect(normalizeUserCode('bcdf-ghjk')).toBe('BCDF-GHJK');
    expect(normalizeUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
    expect(normalizeUserCode(' bcdf ghjk ')).toBe('BCDF-GHJK');
    expect(normalizeUserCode('short')).toBe('SHORT');
  });
});

describe('return paths after sign-in', () => {
  it('keep paths on this server only', () => {
    expect(safeReturnTo('/sessions/1?x=2')).toBe('/sessions/1?x=2');
    expect(safeReturnTo(undefined)).toBe('/');
    expect(safeReturnTo('https://evil.example/')).toBe('/');
    expect(safeReturnTo('//evil.example/')).toBe('/');
    expect(safeReturnTo('/\\evil.example')).toBe('/');
    expect(safeReturnTo('sessions')).toBe('/');
  });
});

describe('cookies', () => {
  it('are httpOnly and SameSite=Lax unless told otherwise, Secure on https', () => {
    expect(setCookie('a', 'v w', { maxAgeSeconds: 60, secure: false })).toBe(
      'a=v%20w; Path=/; Max-Age=60; SameSite=Lax; HttpOnly',
    );
    expect(setCookie('c', 'x', { maxAgeSeconds: 1, secure: true, httpOnly: false, path: '/p' })).toBe(
      'c=x; Path=/p; Max-Age=1; SameSite=Lax; Secure',
    );
    expect(clearCookie('a', { secure: false })).toBe('a=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly');
  });
});
