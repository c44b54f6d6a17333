/** Set-Cookie values for the browser session: httpOnly unless stated, SameSite=Lax, Secure on https origins. */
export function setCookie(
  name: string,
  value: string,
  opts: { maxAgeSeconds: number; secure: boolean; httpOnly?: boolean; path?: string },
): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${opts.path ?? '/'}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`,
    'SameSite=Lax',
    ...(opts.httpOnly === false ? [] : ['HttpOnly']),
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearCookie(name: string, opts: { secure: boolean; httpOnly?: boolean; path?: string }): string {
  return setCookie(name, '', { ...opts, maxAgeSeconds: 0 });
}
