import { type CachedPrincipal, PrincipalCache } from './principal-cache';

const entry = (userId: string): CachedPrincipal => ({
  principal: { userId, orgId: 'org-a', name: userId, email: `${userId}@a.example`, role: 'admin', memberRole: 'admin' },
  source: { kind: 'token', tokenId: `token-${userId}` },
});

describe('PrincipalCache', () => {
  let now = 0;
  const make = (ttl = 5_000, size = 3) => new PrincipalCache(ttl, size, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  it('answers a live token until its TTL, then never again', () => {
    const cache = make();
    cache.set('h1', entry('u1'), cache.generation, null);
    now += 4_999;
    expect(cache.get('h1')?.principal.userId).toBe('u1');
    now += 1;
    expect(cache.get('h1')).toBeUndefined();
  });

  it("never outlives the token's own expiry", () => {
    const cache = make();
    cache.set('h1', entry('u1'), cache.generation, new Date(now + 1_000));
    now += 1_000;
    expect(cache.get('h1')).toBeUndefined();
    cache.set('h2', entry('u2'), cache.generation, new Date(now));
    expect(cache.get('h2')).toBeUndefined();
  });

  it('forgets everything at once on invalidate', () => {
    const cache = make();
    cache.set('h1', entry('u1'), cache.generation, null);
    cache.set('h2', entry('u2'), cache.generation, null);
    cache.invalidate();
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')).toBeUndefined();
  });

  it('does not store what a lookup read before a revoke committed', () => {
    const cache = make();
    const before = cache.generation; // a lookup starts
    cache.invalidate(); // a revoke commits while it runs
    cache.set('h1', entry('u1'), before, null); // the lookup ends with what it read before
    expect(cache.get('h1')).toBeUndefined();
    cache.set('h1', entry('u1'), cache.generation, null);
    expect(cache.get('h1')).toBeDefined();
  });

  it('holds at most its size, forgetting the least recently used', () => {
    const cache = make(5_000, 2);
    cache.set('h1', entry('u1'), cache.generation, null);
    cache.set('h2', entry('u2'), cache.generation, null);
    expect(cache.get('h1')).toBeDefined(); // h2 is now the least recently used
    cache.set('h3', entry('u3'), cache.generation, null);
    expect(cache.get('h2')).toBeUndefined();
    expect(cache.get('h1')).toBeDefined();
    expect(cache.get('h3')).toBeDefined();
  });

  it('hands out an object no request can change', () => {
    const cache = make();
    cache.set('h1', entry('u1'), cache.generation, null);
    const got = cache.get('h1')!;
    expect(() => {
      (got.principal as { role: string }).role = 'owner';
    }).toThrow(TypeError);
    expect(cache.get('h1')?.principal.role).toBe('admin');
  });
});
