import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Pure egress decisions: host (and path) globs, private-address refusal, and credential placeholders. The proxy
 * (`egress-proxy.ts`) does the I/O around them.
 */

/** Why a request was refused; carried in the `x-yoke-deny-reason` header and given to `onDenied`. */
export type EgressDenyCode =
  | 'host_not_allowed'
  | 'host_denied'
  | 'path_denied'
  | 'private_address'
  | 'secret_not_allowed_for_host'
  | 'host_mismatch'
  | 'bad_request';

export interface EgressRules {
  /** `host`, `*.host`, `*`, optionally `:port` and `/path-glob` (paths need TLS interception for https). */
  allow: string[];
  deny?: string[];
}

interface Rule {
  host: RegExp;
  port: number | null;
  path: RegExp | null;
}

const escape = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** `*.example.com` matches any subdomain (not the apex); `*` alone matches every host; `**` in paths spans `/`. */
function hostGlob(glob: string): RegExp {
  if (glob === '*') return /^.+$/;
  const body = glob.toLowerCase().split('*').map(escape).join('[^.]+(?:\\.[^.]+)*');
  return new RegExp(`^${body}$`);
}

function pathGlob(glob: string): RegExp {
  const body = glob
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}(?:\\?.*)?$`);
}

export function parseRule(text: string): Rule {
  const trimmed = text.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = trimmed.indexOf('/');
  const authority = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const path = slash === -1 ? null : trimmed.slice(slash);
  const portMatch = /^(.*):(\d+)$/.exec(authority);
  const host = portMatch ? portMatch[1] : authority;
  if (!host) throw new Error(`empty host in egress rule "${text}"`);
  return { host: hostGlob(host), port: portMatch ? Number(portMatch[2]) : null, path: path ? pathGlob(path) : null };
}

export interface EgressTarget {
  host: string;
  port: number;
  /** Known only for plain http and intercepted https. */
  path?: string;
}

export type EgressVerdict = { allowed: true } | { allowed: false; code: EgressDenyCode; reason: string };

const matches = (rule: Rule, t: EgressTarget, withPath: boolean): boolean =>
  rule.host.test(t.host.toLowerCase()) &&
  (rule.port === null || rule.port === t.port) &&
  (!withPath || rule.path === null || (t.path !== undefined && rule.path.test(t.path)));

/** The allow/deny part of the policy for one session (deny beats allow; nothing allowed unless listed). */
export class EgressPolicy {
  private allow: Rule[];
  private deny: Rule[];

  constructor(rules: EgressRules) {
    this.allow = rules.allow.map(parseRule);
    this.deny = (rules.deny ?? []).map(parseRule);
  }

  /** Whether any rule for this host looks at paths (then https to it must be intercepted to be decided). */
  needsPath(host: string, port: number): boolean {
    return [...this.allow, ...this.deny].some((r) => r.path !== null && matches(r, { host, port }, false));
  }

  /** Decides a target. Without a path (an opaque CONNECT), path rules allow nothing and deny nothing. */
  decide(t: EgressTarget): EgressVerdict {
    const where = `${t.host}:${t.port}${t.path ?? ''}`;
    if (isPrivateHost(t.host)) {
      const explicit = this.allow.some((r) => r.host.source !== '^.+$' && matches(r, t, true));
      if (!explicit)
        return { allowed: false, code: 'private_address', reason: `${t.host} is a local or private address` };
    }
    const denied = this.deny.find((r) => (r.path === null || t.path !== undefined) && matches(r, t, true));
    if (denied) {
      return denied.path
        ? { allowed: false, code: 'path_denied', reason: `${where} is denied by policy` }
        : { allowed: false, code: 'host_denied', reason: `${t.host} is denied by policy` };
    }
    const allowed = this.allow.some((r) => (r.path === null || t.path !== undefined) && matches(r, t, true));
    if (!allowed) return { allowed: false, code: 'host_not_allowed', reason: `${where} is not in the allowed hosts` };
    return { allowed: true };
  }
}

/** Loopback, private, link-local, CGNAT, unspecified and unique-local addresses, and `localhost` names. */
export function isPrivateHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const kind = isIP(h);
  if (kind === 4) {
    const [a, b] = h.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (kind === 6) {
    if (h === '::' || h === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return isPrivateHost(mapped[1]);
    return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(h);
  }
  return false;
}

export interface EgressSecret {
  /** e.g. `anthropic`, `github`. */
  name: string;
  /** The real value: only ever in the runner's memory and in requests to `hosts`. */
  value: string;
  /** Host globs (same syntax as rules, no paths) this secret may be sent to. */
  hosts: string[];
}

export const PLACEHOLDER_PATTERN = /yoke-secret-[A-Za-z0-9_]+-[0-9a-f]{24}/g;

/** Makes the stand-in the sandbox sees instead of a secret. */
export function makePlaceholder(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`secret names are letters, digits and _: ${name}`);
  return `yoke-secret-${name}-${randomBytes(12).toString('hex')}`;
}

export type Substitution = { ok: true; value: string; used: string[] } | { ok: false; secret: string };

/** The placeholders → secrets of one session, and the swap for one destination host. */
export class SecretVault {
  private readonly byPlaceholder = new Map<string, { secret: EgressSecret; hosts: Rule[] }>();
  private readonly byName = new Map<string, string>();

  add(secret: EgressSecret, placeholder = makePlaceholder(secret.name)): string {
    this.byPlaceholder.set(placeholder, { secret, hosts: secret.hosts.map(parseRule) });
    this.byName.set(secret.name, placeholder);
    return placeholder;
  }

  placeholder(name: string): string | undefined {
    return this.byName.get(name);
  }

  /** Whether some secret may go to this host (then its https is intercepted to inject it). */
  hasSecretsFor(host: string, port: number): boolean {
    return [...this.byPlaceholder.values()].some((e) => e.hosts.some((r) => matches(r, { host, port }, false)));
  }

  /** Replaces every known placeholder in `text`; refuses when one belongs to a secret not approved for the host. */
  substitute(text: string, host: string, port: number): Substitution {
    const used: string[] = [];
    let refused: string | null = null;
    const value = text.replace(PLACEHOLDER_PATTERN, (placeholder) => {
      const entry = this.byPlaceholder.get(placeholder);
      if (!entry) return placeholder;
      if (!entry.hosts.some((r) => matches(r, { host, port }, false))) {
        refused ??= entry.secret.name;
        return placeholder;
      }
      used.push(entry.secret.name);
      return entry.secret.value;
    });
    return refused === null ? { ok: true, value, used } : { ok: false, secret: refused };
  }

  /** As `substitute`, also looking inside `Basic` credentials (git sends tokens as base64 `user:token`). */
  substituteHeader(name: string, text: string, host: string, port: number): Substitution {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(text);
    if (name.toLowerCase().endsWith('authorization') && basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const inner = this.substitute(decoded, host, port);
      if (!inner.ok) return inner;
      if (inner.used.length > 0) return { ...inner, value: `Basic ${Buffer.from(inner.value).toString('base64')}` };
    }
    return this.substitute(text, host, port);
  }
}
