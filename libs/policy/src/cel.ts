import type { CelEnv } from '@bufbuild/cel';
import type { PolicyAction } from './types';

/** The variables a policy expression sees. */
export const CEL_VARIABLES = ['action', 'state', 'actor', 'session'] as const;

/** The string fields of `action` a guard reads (see `CelProgram.guards`). */
export type GuardField = 'type' | 'tool' | 'nativeTool' | 'model';
const GUARD_FIELDS: readonly string[] = ['type', 'tool', 'nativeTool', 'model'] satisfies GuardField[];

/** `action.<field>` as an expression sees it: always a string, empty when it does not apply to the action. */
export function actionField(a: PolicyAction, field: GuardField): string {
  switch (field) {
    case 'type':
      return a.type;
    case 'tool':
      return a.type === 'tool_call' ? a.tool : '';
    case 'nativeTool':
      return a.type === 'tool_call' ? a.nativeTool : '';
    case 'model':
      return a.type === 'usage' ? a.model : '';
  }
}

/** The expression can only be true when `action.<field>` is one of `values`. */
export interface CelGuard {
  field: GuardField;
  values: readonly string[];
}

export interface CelProgram {
  /** Evaluates the expression; throws when the evaluation fails or does not yield a bool. */
  run(vars: Record<string, unknown>): boolean;
  /**
   * The terms of the expression's top-level `&&` chain that compare a string field of `action` to string literals
   * (`action.tool == "shell"`, `action.type in ["prompt", "usage"]`). When one of them is false the expression is
   * false, whatever its other terms give (CEL's `&&` is false as soon as one term is, errors included), so it needs
   * no evaluation and no variables.
   */
  guards: readonly CelGuard[];
}

/** Whether every guard holds for the action (true when there are none). */
export function guardsHold(guards: readonly CelGuard[], action: PolicyAction): boolean {
  for (const g of guards) if (!g.values.includes(actionField(action, g.field))) return false;
  return true;
}

// `@bufbuild/cel` and its protobuf runtime (~124 modules, ~14 MB) load with the first `expr` policy: the runner and the
// server import the policy engine at start, and most policy sets never use an expression.
let cel: typeof import('@bufbuild/cel') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadCel = () => (cel ??= require('@bufbuild/cel') as typeof import('@bufbuild/cel'));
let env: CelEnv | undefined;

/**
 * Compiles a CEL expression once (at policy load). Throws with a readable message when it does not parse or names a
 * variable other than `action`, `state`, `actor` and `session`. The program throws when an evaluation fails or does
 * not yield a bool.
 */
export function compileCel(source: string): CelProgram {
  const { celEnv, isCelError, parse, plan } = loadCel();
  const parsed = parse(source);
  const unknown = [...freeIdentifiers(parsed.expr)].filter((n) => !(CEL_VARIABLES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(`unknown variable ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${CEL_VARIABLES.join(', ')})`);
  }
  env ??= celEnv({});
  const evaluate = plan(env, parsed);
  return {
    run(vars) {
      const result = evaluate(vars as never);
      if (isCelError(result)) throw new Error(result.message);
      if (typeof result !== 'boolean') throw new Error(`expression gave ${describe(result)}, not a bool`);
      return result;
    },
    guards: guardsOf(parsed.expr),
  };
}

/** The guards of an expression: see `CelProgram.guards`. */
function guardsOf(root: unknown): CelGuard[] {
  const terms: ExprNode[] = [];
  const flatten = (node: ExprNode | undefined): void => {
    if (!node) return;
    const kind = node.exprKind;
    if (kind.case === 'callExpr' && kind.value.function === '_&&_' && !kind.value.target) {
      for (const a of kind.value.args) flatten(a);
    } else terms.push(node);
  };
  flatten(root as ExprNode);
  const guards: CelGuard[] = [];
  for (const term of terms) {
    const kind = term.exprKind;
    if (kind.case !== 'callExpr' || kind.value.target || kind.value.args.length !== 2) continue;
    const [left, right] = kind.value.args;
    if (kind.value.function === '_==_') {
      const field = guardField(left) ?? guardField(right);
      const literal = stringLiteral(guardField(left) ? right : left);
      if (field && literal !== null) guards.push({ field, values: [literal] });
    } else if (kind.value.function === '@in') {
      const field = guardField(left);
      const values = stringList(right);
      if (field && values) guards.push({ field, values });
    }
  }
  return guards;
}

/** `action.<field>` for a guard field (not `has(action.<field>)`); null for anything else. */
function guardField(node: ExprNode): GuardField | null {
  const kind = node.exprKind;
  if (kind.case !== 'selectExpr' || kind.value.testOnly) return null;
  const operand = kind.value.operand?.exprKind;
  if (operand?.case !== 'identExpr' || operand.value.name !== 'action') return null;
  return GUARD_FIELDS.includes(kind.value.field) ? (kind.value.field as GuardField) : null;
}

function stringLiteral(node: ExprNode): string | null {
  const kind = node.exprKind;
  if (kind.case !== 'constExpr') return null;
  const constant = (kind.value as { constantKind?: { case?: string; value?: unknown } } | undefined)?.constantKind;
  return constant?.case === 'stringValue' && typeof constant.value === 'string' ? constant.value : null;
}

/** The strings of a list literal made only of string literals (no optional elements); null otherwise. */
function stringList(node: ExprNode): string[] | null {
  const kind = node.exprKind;
  if (kind.case !== 'listExpr' || (kind.value.optionalIndices?.length ?? 0) > 0) return null;
  const out: string[] = [];
  for (const element of kind.value.elements) {
    const literal = stringLiteral(element);
    if (literal === null) return null;
    out.push(literal);
  }
  return out;
}

/**
 * A plain value (objects, arrays, strings, numbers, booleans, null) as CEL values, converted once down to `depth`
 * levels: the expression engine otherwise converts an object variable again at every evaluation, for every `expr`
 * policy. Deeper values (a tool's input) stay plain and are converted only if an expression reads them. An object's
 * fields are converted when first read (see `PlainMap`).
 */
export function celValue(value: unknown, depth = 2): unknown {
  if (depth === 0 || typeof value !== 'object' || value === null) return value;
  const { celList, celMap } = celFactories ?? loadFactories();
  if (Array.isArray(value)) {
    if (depth === 1) return celList(value.slice() as never[]);
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) items[i] = celValue(value[i], depth - 1);
    return celList(items as never[]);
  }
  return celMap(new PlainMap(value as Record<string, unknown>, depth) as never);
}

/**
 * A plain object as the map CEL reads (`celMap` takes any `ReadonlyMap`), each field converted (`celValue`, one level
 * less) when an expression first reads it: an expression reads one or two of the thirteen fields of `action`. Reads
 * the object as it is; the variables are built for one decision and nothing changes them.
 */
export class PlainMap implements ReadonlyMap<string, unknown> {
  private converted: Map<string, unknown> | undefined;

  constructor(
    private readonly record: Record<string, unknown>,
    private readonly depth: number,
  ) {}

  get size(): number {
    return Object.keys(this.record).length;
  }

  has(key: string): boolean {
    return typeof key === 'string' && Object.hasOwn(this.record, key);
  }

  get(key: string): unknown {
    if (typeof key !== 'string' || !Object.hasOwn(this.record, key)) return undefined;
    const value = this.record[key];
    if (this.depth <= 1 || typeof value !== 'object' || value === null) return value;
    this.converted ??= new Map();
    let out = this.converted.get(key);
    if (out === undefined) {
      out = celValue(value, this.depth - 1);
      this.converted.set(key, out);
    }
    return out;
  }

  forEach(callback: (value: unknown, key: string, map: ReadonlyMap<string, unknown>) => void, thisArg?: unknown): void {
    for (const key of Object.keys(this.record)) callback.call(thisArg, this.get(key), key, this);
  }

  *entries(): MapIterator<[string, unknown]> {
    for (const key of Object.keys(this.record)) yield [key, this.get(key)];
  }

  keys(): MapIterator<string> {
    return Object.keys(this.record)[Symbol.iterator]();
  }

  *values(): MapIterator<unknown> {
    for (const key of Object.keys(this.record)) yield this.get(key);
  }

  [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }
}

let celFactories: Pick<typeof import('@bufbuild/cel'), 'celList' | 'celMap'> | undefined;
function loadFactories(): Pick<typeof import('@bufbuild/cel'), 'celList' | 'celMap'> {
  const { celList, celMap } = loadCel();
  celFactories = { celList, celMap };
  return celFactories;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a map or message';
  return `a ${typeof value === 'bigint' ? 'int' : typeof value === 'number' ? 'double' : typeof value}`;
}

/** The structural view of `cel.expr.Expr` that the walk needs. */
interface ExprNode {
  exprKind:
    | { case: 'identExpr'; value: { name: string } }
    | { case: 'selectExpr'; value: { operand?: ExprNode; field: string; testOnly?: boolean } }
    | { case: 'callExpr'; value: { target?: ExprNode; function: string; args: ExprNode[] } }
    | { case: 'listExpr'; value: { elements: ExprNode[]; optionalIndices?: number[] } }
    | { case: 'structExpr'; value: { entries: { keyKind: { case?: string; value?: unknown }; value?: ExprNode }[] } }
    | {
        case: 'comprehensionExpr';
        value: {
          iterVar: string;
          iterVar2?: string;
          accuVar: string;
          iterRange?: ExprNode;
          accuInit?: ExprNode;
          loopCondition?: ExprNode;
          loopStep?: ExprNode;
          result?: ExprNode;
        };
      }
    | { case: 'constExpr' | undefined; value?: unknown };
}

/** Identifiers an expression reads from its environment (comprehension variables excluded). */
function freeIdentifiers(root: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (node: ExprNode | undefined, bound: ReadonlySet<string>): void => {
    if (!node) return;
    const kind = node.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (!bound.has(kind.value.name)) found.add(kind.value.name);
        return;
      case 'selectExpr':
        walk(kind.value.operand, bound);
        return;
      case 'callExpr':
        walk(kind.value.target, bound);
        for (const a of kind.value.args) walk(a, bound);
        return;
      case 'listExpr':
        for (const e of kind.value.elements) walk(e, bound);
        return;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value as ExprNode, bound);
          walk(entry.value, bound);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        walk(c.iterRange, bound);
        walk(c.accuInit, bound);
        const inner = new Set(bound).add(c.iterVar).add(c.accuVar);
        if (c.iterVar2) inner.add(c.iterVar2);
        walk(c.loopCondition, inner);
        walk(c.loopStep, inner);
        walk(c.result, inner);
        return;
      }
      default:
        return;
    }
  };
  walk(root as ExprNode, new Set());
  return found;
}
