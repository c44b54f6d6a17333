import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** RFC 8785 (JCS) canonical JSON of `value`: sorted keys, no whitespace, ECMAScript number form. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/**
 * Canonical JSON of a value that came out of `JSON.parse`, fast when it is already canonical (which is how the
 * bundle writer stores events): if every object's keys are in RFC 8785 order, `JSON.stringify` yields exactly the
 * JCS text (same string escapes, same number form, no `toJSON` or `undefined` in parsed JSON), at a fraction of
 * the cost. Anything else goes through `canonicalJson`. Only for parsed JSON: class instances, `undefined`
 * members or `toJSON` methods are not looked for.
 */
export function canonicalJsonOfParsed(value: unknown): string {
  return hasCanonicalKeyOrder(value) ? JSON.stringify(value) : canonicalJson(value);
}

function hasCanonicalKeyOrder(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (const v of value) if (!hasCanonicalKeyOrder(v)) return false;
    return true;
  }
  let previous: string | null = null;
  for (const key in value) {
    // `<` compares UTF-16 code units, the order RFC 8785 §3.2.3 sorts by.
    if (previous !== null && !(previous < key)) return false;
    if (!hasCanonicalKeyOrder((value as Record<string, unknown>)[key])) return false;
    previous = key;
  }
  return true;
}

/** Lowercase hex SHA-256 of the content's canonical JSON: an event's `contentHash`. */
export function contentHash(content: unknown): string {
  return hash('sha256', canonicalJson(content), 'hex');
}
