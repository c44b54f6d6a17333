import { randomInt } from 'node:crypto';

// RFC 8628 §6.1: no vowels (no words), no look-alikes, case-insensitive: typed by a person.
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

/** A device user code: `XXXX-XXXX` over 20 letters (about 34 bits; only a signed-in person can try one). */
export function newUserCode(): string {
  const pick = () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  const part = () => Array.from({ length: 4 }, pick).join('');
  return `${part()}-${part()}`;
}

/** People type codes in any case, with or without the dash or spaces. */
export function normalizeUserCode(code: string): string {
  const c = code.toUpperCase().replace(/[^A-Z]/g, '');
  return c.length === 8 ? `${c.slice(0, 4)}-${c.slice(4)}` : c;
}

/** Where to go after signing in: only a path on this server, never another origin (no open redirect). */
export function safeReturnTo(v: string | undefined): string {
  if (!v || !v.startsWith('/') || v.startsWith('//') || v.includes('\\')) return '/';
  return v.slice(0, 2000);
}
