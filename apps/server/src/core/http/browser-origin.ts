import type { IncomingHttpHeaders } from 'node:http';

export type OriginVerdict = { ok: true } | { ok: false; reason: string };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Sec-Fetch-Site values that say the request did not come from another site's page. */
const FIRST_PARTY = new Set(['same-origin', 'none']);

export function isSafeMethod(method: string | undefined): boolean {
  return SAFE_METHODS.has((method ?? 'GET').toUpperCase());
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether a request (or socket handshake) made by a browser comes from a page Yoke trusts: the server's own origin
 * (the Host it was reached at), YOKE_PUBLIC_URL's, or one listed in YOKE_ALLOWED_ORIGINS. A request is from a browser
 * when it carries `Origin`, or a `Sec-Fetch-Site` other than same-origin/none; anything else (the CLI, a runner, curl)
 * is not a browser context and passes here: its credential is checked by the auth guard.
 */
export function checkBrowserOrigin(headers: IncomingHttpHeaders, allowed: readonly string[]): OriginVerdict {
  const origin = first(headers.origin);
  const site = first(headers['sec-fetch-site'])?.toLowerCase();
  if (origin === undefined) {
    if (site === undefined || FIRST_PARTY.has(site)) return { ok: true };
    return { ok: false, reason: `a ${site} browser request without an Origin is refused` };
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return { ok: false, reason: `requests from origin "${truncate(origin)}" are refused` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: `requests from origin "${truncate(origin)}" are refused` };
  }
  const host = first(headers.host)?.toLowerCase();
  if (host && parsed.host.toLowerCase() === host) return { ok: true };
  if (allowed.includes(parsed.origin)) return { ok: true };
  return {
    ok: false,
    reason: `requests from ${parsed.origin} are refused: only this server's own pages (or YOKE_PUBLIC_URL / YOKE_ALLOWED_ORIGINS) may write or connect`,
  };
}

/** Embedded mode answers only to loopback Host names, so a DNS-rebound name never reaches it. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return LOOPBACK_HOSTS.has(name.toLowerCase());
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
