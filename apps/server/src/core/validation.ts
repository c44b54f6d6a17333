import { AppError } from '@yoke/protocol';
import { z } from 'zod';

/** Deepest nesting accepted from a wire: far past any real payload, far below what a recursive parser survives. */
export const MAX_INPUT_DEPTH = 100;

/**
 * Validates data that crossed a wire; a failure is a typed `request.invalid` (or the given code) listing every issue.
 * Refused as well: input nested past MAX_INPUT_DEPTH (parsing it would overflow the stack), and text holding a NUL
 * character, which Postgres `text` and `jsonb` cannot store. Where the text is content rather than an identifier
 * (what agents and commands printed), `nul: 'replace'` turns each NUL into U+FFFD instead.
 */
export function parseOr<T extends z.ZodType>(
  schema: T,
  input: unknown,
  code: 'request.invalid' | 'event.invalid' = 'request.invalid',
  nul: 'refuse' | 'replace' = 'refuse',
): z.infer<T> {
  if (depthExceeds(input, MAX_INPUT_DEPTH)) {
    throw new AppError(code, `input is nested more than ${MAX_INPUT_DEPTH} levels deep`);
  }
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new AppError(code, z.prettifyError(r.error), {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  if (nul === 'replace') return replaceNul(r.data);
  const found = nulPaths(r.data);
  if (found.length > 0) {
    throw new AppError(code, `text may not contain NUL characters (at ${found.map((p) => p || '(root)').join(', ')})`, {
      issues: found.map((path) => ({ path, message: 'contains a NUL character' })),
    });
  }
  return r.data;
}

/** True when arrays and objects in `value` nest deeper than `max` (walked without recursion). */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: item, depth: depth + 1 });
  }
  return false;
}

/** Where strings (values or keys) in `value` hold a NUL character: dotted paths, at most `max` of them. */
export function nulPaths(value: unknown, max = 10): string[] {
  const found: string[] = [];
  const stack: { at: string; v: unknown }[] = [{ at: '', v: value }];
  while (stack.length > 0 && found.length < max) {
    const { at, v } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) found.push(at);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ at: join(at, i), v: item }));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\0')) found.push(join(at, k));
        stack.push({ at: join(at, k), v: item });
      }
    }
  }
  return found.sort();
}

/** `value` with every NUL in its strings (values and keys) replaced by U+FFFD; for parsed, depth-checked data. */
export function replaceNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => replaceNul(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a `__proto__` key stays a key.
      Object.defineProperty(out, replaceNul(k), {
        value: replaceNul(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}

function join(at: string, key: string | number): string {
  return at ? `${at}.${key}` : String(key);
}
