/**
 * Egress host lists compose by narrowing: a host is allowed only if every policy that sets an allow list allows it
 * (intersection), and denied if any policy denies it (union). Patterns are those of the sandbox's egress rules:
 * `host`, `*.host` (subdomains), `*`, each optionally with `:port` and `/path`.
 */
export interface EgressLists {
  allow?: string[];
  deny?: string[];
}

export interface EffectiveEgress {
  /** Null when no policy sets an allow list (egress is then whatever the sandbox config says). */
  allow: string[] | null;
  deny: string[];
}

interface Pattern {
  host: string;
  port: string | null;
  path: string | null;
}

function parsePattern(text: string): Pattern {
  const trimmed = text
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '');
  const slash = trimmed.indexOf('/');
  const authority = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const path = slash === -1 ? null : trimmed.slice(slash);
  const port = /^(.*):(\d+)$/.exec(authority);
  return { host: port ? port[1] : authority, port: port ? port[2] : null, path };
}

/** Whether every host `inner` matches is also matched by `outer`. */
function hostCovers(outer: string, inner: string): boolean {
  if (outer === inner || outer === '*') return true;
  if (inner === '*') return false;
  if (outer.startsWith('*.') && !outer.slice(2).includes('*')) {
    const suffix = outer.slice(1); // ".example.com"
    return inner.endsWith(suffix) && inner.length > suffix.length;
  }
  return false;
}

function covers(outer: string, inner: string): boolean {
  const o = parsePattern(outer);
  const i = parsePattern(inner);
  return hostCovers(o.host, i.host) && (o.port === null || o.port === i.port) && (o.path === null || o.path === i.path);
}

/**
 * The patterns of `a` covered by some pattern of `b`, and those of `b` covered by some of `a`. Exact for patterns
 * that nest or are disjoint (the usual case); partially overlapping ones (`a.*.com` and `*.b.com`) are dropped,
 * which only ever narrows.
 */
export function intersectHosts(a: string[], b: string[]): string[] {
  const out = new Set<string>();
  for (const p of a) if (b.some((q) => covers(q, p))) out.add(p);
  for (const q of b) if (a.some((p) => covers(p, q))) out.add(q);
  return [...out];
}

export function combineEgress(lists: EgressLists[]): EffectiveEgress {
  let allow: string[] | null = null;
  const deny = new Set<string>();
  for (const l of lists) {
    if (l.allow) allow = allow === null ? [...new Set(l.allow)] : intersectHosts(allow, l.allow);
    for (const d of l.deny ?? []) deny.add(d);
  }
  return { allow, deny: [...deny] };
}
