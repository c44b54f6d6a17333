import fc from 'fast-check';

/**
 * Inputs for the fuzzer (fuzz.int-spec.ts): values that satisfy a protocol schema (read as the JSON Schema zod 4
 * writes for it, input side), and mutations of them that a hostile or broken client could send.
 */
export type JsonSchema = { [key: string]: unknown };

/** A JSON text fragment sent as is: numbers JSON.stringify cannot write (-0, 1e309) and raw nesting. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Serializes like JSON.stringify, but writes RawJson fragments as they are and keeps own `__proto__` keys. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v)).join(',')}]`;
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const entries = Object.keys(value).map(
      (k) => `${JSON.stringify(k)}:${toJsonText((value as Record<string, unknown>)[k])}`,
    );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The same value as socket.io will carry it: raw fragments become what JSON.parse makes of them (or a string). */
export function toSocketValue(value: unknown): unknown {
  if (value instanceof RawJson) {
    try {
      return JSON.parse(value.text) as unknown;
    } catch {
      return value.text;
    }
  }
  if (Array.isArray(value)) return value.map(toSocketValue);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) define(out, k, toSocketValue((value as Record<string, unknown>)[k]));
    return out;
  }
  return value;
}

/** Sets an own enumerable key, `__proto__` included (plain assignment would change the prototype instead). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Where the fuzzer plants known values: ids of real rows for uuid fields, chosen values for named properties. */
export type Plants = { uuid?: fc.Arbitrary<string>; byName?: Record<string, fc.Arbitrary<unknown>> };

/** Values that satisfy `schema` (refinements aside: JSON Schema does not carry them). */
export function validValue(schema: JsonSchema, plants: Plants = {}): fc.Arbitrary<unknown> {
  return valueOf(schema, schema, 0, plants);
}

function valueOf(schema: JsonSchema, root: JsonSchema, depth: number, plants: Plants): fc.Arbitrary<unknown> {
  const next = (s: JsonSchema, r: JsonSchema, d: number) => valueOf(s, r, d, plants);
  if (typeof schema.$ref === 'string') {
    if (depth > 4) return fc.constant(null);
    return next(resolveRef(root, schema.$ref), root, depth + 1);
  }
  if (schema.format === 'uuid' && plants.uuid) return fc.oneof(fc.uuid({ version: 4 }), plants.uuid);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => next(s, root, depth + 1)));
  if (Array.isArray(schema.allOf)) return next(Object.assign({}, ...(schema.allOf as JsonSchema[])), root, depth);
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  if (type.length > 1) return fc.oneof(...type.map((t) => next({ ...schema, type: t }, root, depth)));
  switch (type[0]) {
    case 'string':
      return stringValue(schema);
    case 'integer': {
      const lo = lowerBound(schema, -(2 ** 31));
      const hi = upperBound(schema, MAX_SAFE);
      return fc.oneof(
        {
          weight: 4,
          arbitrary: fc.integer({ min: Math.max(lo, -1000), max: Math.min(hi, Math.max(lo, -1000) + 1000) }),
        },
        { weight: 1, arbitrary: fc.constantFrom(lo, hi) },
      );
    }
    case 'number': {
      const lo = lowerBound(schema, -1e9);
      const hi = upperBound(schema, 1e9);
      return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const min = (schema.minItems as number | undefined) ?? 0;
      const max = Math.min((schema.maxItems as number | undefined) ?? min + 3, min + 3);
      return fc.array(next((schema.items as JsonSchema | undefined) ?? {}, root, depth + 1), {
        minLength: min,
        maxLength: max,
      });
    }
    case 'object':
      return objectValue(schema, root, depth, plants);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectValue(schema: JsonSchema, root: JsonSchema, depth: number, plants: Plants): fc.Arbitrary<unknown> {
  const next = (s: JsonSchema, r: JsonSchema, d: number) => valueOf(s, r, d, plants);
  const planted = (k: string, s: JsonSchema) =>
    plants.byName?.[k] ? fc.oneof(plants.byName[k], next(s, root, depth + 1)) : next(s, root, depth + 1);
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  const extra = schema.additionalProperties;
  const known = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, planted(k, s)])), {
    requiredKeys: required.filter((k) => k in props),
  });
  if (!extra || typeof extra !== 'object' || Object.keys(props).length > 0) return known;
  return fc.dictionary(fc.string({ maxLength: 12 }), next(extra as JsonSchema, root, depth + 1), {
    maxKeys: 3,
  });
}

function stringValue(schema: JsonSchema): fc.Arbitrary<string> {
  const min = (schema.minLength as number | undefined) ?? 0;
  const max = (schema.maxLength as number | undefined) ?? 10_000;
  switch (schema.format) {
    case 'uuid':
      return fc.uuid({ version: 4 });
    case 'email':
      return fc.emailAddress().filter((e) => e.length <= max);
    case 'uri':
      // Nothing listens there: anything that dials it fails at once, without DNS or the network.
      return fc.constantFrom('http://127.0.0.1:9/', 'https://127.0.0.1:9/realms/x', 'http://[::1]:9/a?b=c');
    case 'date-time':
      return fc
        .date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true })
        .map((d) => d.toISOString());
    default:
  }
  if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern), { maxLength: max });
  const upTo = Math.min(max, min + 24);
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: upTo }) },
    // Any code point, NUL and other controls included: valid for the schema, and what Postgres may refuse.
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: upTo, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: upTo, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.constantFrom(...[min, max].map((n) => 'é'.repeat(n))) },
  );
}

function lowerBound(schema: JsonSchema, fallback: number): number {
  if (typeof schema.exclusiveMinimum === 'number') return schema.exclusiveMinimum + 1;
  return typeof schema.minimum === 'number' ? Math.max(schema.minimum, -MAX_SAFE) : fallback;
}

function upperBound(schema: JsonSchema, fallback: number): number {
  if (typeof schema.exclusiveMaximum === 'number') return schema.exclusiveMaximum - 1;
  return typeof schema.maximum === 'number' ? Math.min(schema.maximum, MAX_SAFE) : fallback;
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (ref === '#') return root;
  const path = ref.replace(/^#\//, '').split('/');
  let at: unknown = root;
  for (const part of path) at = (at as Record<string, unknown>)[part];
  return (at ?? {}) as JsonSchema;
}

// ---- hostile values ----

/** Strings a well-typed field may still carry: NUL, lone surrogates, bidi overrides, traversal, injections. */
export const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\uffff',
  '\ufeffBOM',
  'e\u0301',
  '\u202egnp.exe',
  '😀🏳️‍🌈',
  'İı',
  '%00',
  '%ZZ',
  '../../../../etc/passwd',
  '..',
  '/',
  'C:\\Windows',
  '${jndi:x}{{7*7}}',
  "' OR 1=1 --",
  '<img src=x onerror=alert(1)>',
  'null',
  '-1',
  'NaN',
  '\r\nX-Injected: 1',
  'x'.repeat(5_000),
];

/** Numbers written straight into the JSON text. */
export const EDGE_NUMBERS = [
  '-0',
  '0.0',
  '1e308',
  '1e309',
  '-1e309',
  '2147483647',
  '2147483648',
  '-2147483649',
  '9007199254740991',
  '9007199254740993',
  '1.5',
  '-1',
  '5e-324',
  '123456789012345678901234567890',
].map((n) => new RawJson(n));

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

export function deepNesting(depth: number, kind: 'array' | 'object'): RawJson {
  return kind === 'array'
    ? new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)
    : new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

/** Any value of the wrong kind, or of the right kind at an edge. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { a: {} }, ['x'], 0, -1),
  },
  { weight: 1, arbitrary: fc.constantFrom(deepNesting(200, 'array'), deepNesting(200, 'object')) },
  { weight: 1, arbitrary: fc.constant(protoObject()) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
);

function protoObject(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  define(o, '__proto__', { isAdmin: true, role: 'owner' });
  define(o, 'constructor', { prototype: { polluted: true } });
  return o;
}

/** What is done to a valid value before it is sent. */
export type Mutation =
  | { kind: 'none' }
  | { kind: 'replace'; at: number; with: unknown }
  | { kind: 'drop'; at: number }
  | { kind: 'extra'; at: number; key: string; with: unknown }
  | { kind: 'edge-string'; at: number; with: string; how: 'append' | 'replace' }
  | { kind: 'edge-number'; at: number; with: RawJson }
  | { kind: 'whole'; with: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), with: hostileValue }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('extra' as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 10 })),
      with: hostileValue,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('edge-string' as const),
      at: fc.nat(),
      with: fc.constantFrom(...EDGE_STRINGS),
      how: fc.constantFrom('append' as const, 'replace' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('edge-number' as const),
      at: fc.nat(),
      with: fc.constantFrom(...EDGE_NUMBERS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), with: hostileValue }) },
);

type Path = (string | number)[];

/** Every place in a value (the root included), in a stable order. */
function paths(value: unknown, at: Path = []): { path: Path; value: unknown }[] {
  const out = [{ path: at, value }];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value !== null && typeof value === 'object' && !(value instanceof RawJson))
    for (const k of Object.keys(value)) out.push(...paths((value as Record<string, unknown>)[k], [...at, k]));
  return out;
}

/** A copy of `value` with the node at `path` replaced by what `change` returns (undefined: removed). */
function update(value: unknown, path: Path, change: (node: unknown) => unknown): unknown {
  if (path.length === 0) return change(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value] as unknown[];
    const next = update(copy[head as number], rest, change);
    if (next === undefined && rest.length === 0) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(value as object)) {
    const v = (value as Record<string, unknown>)[k];
    if (k !== head) define(copy, k, v);
    else {
      const next = update(v, rest, change);
      if (next !== undefined || rest.length > 0) define(copy, k, next);
    }
  }
  return copy;
}

/** Applies a mutation; the node it lands on is chosen among the nodes of the right kind by `at`. */
export function mutate(value: unknown, m: Mutation): unknown {
  const all = paths(value);
  const pick = (nodes: { path: Path; value: unknown }[], at: number) =>
    nodes.length ? nodes[at % nodes.length] : undefined;
  switch (m.kind) {
    case 'none':
      return value;
    case 'whole':
      return m.with;
    case 'replace': {
      const node = pick(all, m.at)!;
      return update(value, node.path, () => m.with);
    }
    case 'drop': {
      const node = pick(
        all.filter((n) => n.path.length > 0),
        m.at,
      );
      return node ? update(value, node.path, () => undefined) : value;
    }
    case 'extra': {
      const node = pick(
        all.filter((n) => isPlainObject(n.value)),
        m.at,
      );
      if (!node) return value;
      return update(value, node.path, (o) => {
        const copy: Record<string, unknown> = {};
        for (const k of Object.keys(o as object)) define(copy, k, (o as Record<string, unknown>)[k]);
        define(copy, m.key, m.with);
        return copy;
      });
    }
    case 'edge-string': {
      const node = pick(
        all.filter((n) => typeof n.value === 'string'),
        m.at,
      );
      if (!node) return value;
      return update(value, node.path, (s) => (m.how === 'append' ? `${s as string}${m.with}` : m.with));
    }
    case 'edge-number': {
      const node = pick(
        all.filter((n) => typeof n.value === 'number'),
        m.at,
      );
      return node ? update(value, node.path, () => m.with) : value;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof RawJson) && !Buffer.isBuffer(v);
}

/** A short, printable form of a value for failure reports. */
export function preview(value: unknown, max = 300): string {
  const text = value === undefined ? '(none)' : toJsonText(value);
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}
