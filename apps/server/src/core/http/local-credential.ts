import { createHmac, timingSafeEqual } from 'node:crypto';

/** The embedded local user's browser cookie: httpOnly, SameSite=Strict, set from the URL `yoke start` prints. */
export const LOCAL_COOKIE = 'yoke_local';

/** The cookie's value: derived from the secret (never the secret itself), so it changes when the secret does. */
export function localCookieValue(secret: string): string {
  return createHmac('sha256', secret).update('yoke local browser cookie v1').digest('base64url');
}

export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function localCookieHeader(secret: string, secure: boolean): string {
  return `${LOCAL_COOKIE}=${localCookieValue(secret)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
