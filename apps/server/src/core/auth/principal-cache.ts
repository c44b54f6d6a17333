import type { Principal, PrincipalSource } from './principal';

/**
 * How long a resolved API token stays cached. A token revoked, a member removed or a role changed on one replica takes
 * effect there at once and on the others as soon as they hear of it over the cluster (Redis); this is the bound when
 * they do not (Redis away, a message lost) (docs/security.md, "API tokens").
 */
export const PRINCIPAL_TTL_MS = 5_000;
/** Live API tokens remembered at once; past that the least recently used is forgotten. */
export const PRINCIPAL_CACHE_SIZE = 10_000;

export type CachedPrincipal = { principal: Principal; source: PrincipalSource };

type Entry = { value: CachedPrincipal; expiresAt: number };

/**
 * API tokens resolved to their principal, by the token's hash, for a few seconds: a read is then one statement, not
 * four. Only live tokens are cached (a refusal is never). Any token revoke, member removal or role change in this
 * process clears it at once (`invalidate`), and bumps a generation so that a lookup which started before the change
 * cannot store what it read then. One per process (CoreModule).
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private gen = 0;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly ttlMs = PRINCIPAL_TTL_MS,
    private readonly size = PRINCIPAL_CACHE_SIZE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Taken before a lookup and handed back to `set`: a change in between makes `set` a no-op. */
  get generation(): number {
    return this.gen;
  }

  get(tokenHash: string): CachedPrincipal | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    this.entries.delete(tokenHash);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(tokenHash, entry); // most recently used last
    return entry.value;
  }

  /** Remembers a live token until the TTL or the token's own expiry, whichever comes first. */
  set(tokenHash: string, value: CachedPrincipal, generation: number, tokenExpiresAt: Date | null): void {
    if (generation !== this.gen) return;
    const expiresAt = Math.min(this.now() + this.ttlMs, tokenExpiresAt?.getTime() ?? Infinity);
    if (expiresAt <= this.now()) return;
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, { value: freeze(value), expiresAt });
    while (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * Forgets every token: call it once a token revoke, member removal or role change has committed. The other replicas
   * are told to forget theirs too (`onInvalidate`, wired to the cluster in team mode).
   */
  invalidate(): void {
    this.forget();
    for (const listener of this.listeners) listener();
  }

  /** Forgets every token because another replica made such a change: not told further. */
  forget(): void {
    this.gen++;
    this.entries.clear();
  }

  /** Called after every local `invalidate`. */
  onInvalidate(listener: () => void): void {
    this.listeners.push(listener);
  }
}

/** One object serves many requests: none may change it. */
function freeze(value: CachedPrincipal): CachedPrincipal {
  return Object.freeze({
    principal: Object.freeze({ ...value.principal }),
    source: Object.freeze({ ...value.source }),
  });
}
