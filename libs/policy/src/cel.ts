import type { CelEnv } from '@bufbuild/cel';

/** The variables a policy expression sees. */
export const CEL_VARIABLES = ['action', 'state', 'actor', 'session'] as const;

export type CelProgram = (vars: Record<string, unknown>) => boolean;

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
  const run = plan(env, parsed);
  return (vars) => {
    const result = run(vars as never);
    if (isCelError(result)) throw new Error(result.message);
    if (typeof result !== 'boolean') throw new Error(`expression gave ${describe(result)}, not a bool`);
    return result;
  };
}

/**
 * A plain value (objects, arrays, strings, numbers, booleans, null) as CEL values, converted once down to `depth`
 * levels: the expression engine otherwise converts an object variable again at every evaluation, for every `expr`
 * policy. Deeper values (a tool's input) stay plain and are converted only if an expression reads them.
 */
export function celValue(value: unknown, depth = 2): unknown {
  if (depth === 0) return value;
  const { celList, celMap } = loadCel();
  if (Array.isArray(value)) return celList(value.map((v) => celValue(v, depth - 1)) as never[]);
  if (typeof value === 'object' && value !== null) {
    const map = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value)) map.set(k, celValue(v, depth - 1));
    return celMap(map as never);
  }
  return value;
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
    | { case: 'selectExpr'; value: { operand?: ExprNode } }
    | { case: 'callExpr'; value: { target?: ExprNode; args: ExprNode[] } }
    | { case: 'listExpr'; value: { elements: ExprNode[] } }
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
