import { MAX_POLICY_YAML, type PolicyIssue } from '@yoke/protocol';
import { CST, isMap, isScalar, Lexer, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { POLICY_TYPES, PolicySpec, type PolicyType } from './spec';

type Segment = string | number;

export type PolicyYamlResult = { ok: true; policies: PolicySpec[] } | { ok: false; errors: PolicyIssue[] };

/** Limits on a policy file, which members may send with a session as well as admins for the org. */
export const POLICY_YAML_LIMITS = {
  /** Characters in the document (the API refuses longer bodies already). */
  maxLength: MAX_POLICY_YAML,
  /** Collections inside collections. */
  maxDepth: 64,
  /** Alias expansions (`yaml`'s `maxAliasCount`): a handful of aliases can otherwise expand to billions of nodes. */
  maxAliases: 100,
} as const;

/**
 * Parses policy YAML: either a list of policies or `{ policies: [...] }`; an empty document has none. Lists every
 * problem with its file, dotted path (`policies.2.ask_at.0`) and 1-based line and column.
 */
export function parsePolicyYaml(text: string, file: string): PolicyYamlResult {
  const { maxLength, maxDepth, maxAliases } = POLICY_YAML_LIMITS;
  const refuse = (message: string): PolicyYamlResult => ({
    ok: false,
    errors: [{ file, line: 1, col: 1, path: '', message }],
  });
  if (text.length > maxLength) {
    return refuse(`policy file is too large (${text.length} characters; the limit is ${maxLength})`);
  }
  // Checked before composing: the composer recurses once per level, and a deep enough document overflows the stack.
  if (nestingDepth(text, maxDepth) > maxDepth) {
    return refuse(`policy file nests collections more than ${maxDepth} levels deep`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: false });
  const at = (offset: number): { line: number; col: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };

  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: firstLine(e.message) })),
    };
  }
  if (doc.contents === null) return { ok: true, policies: [] };

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: maxAliases });
  } catch (e) {
    return refuse(
      e instanceof ReferenceError && /alias count/i.test(e.message)
        ? `policy file expands aliases more than ${maxAliases} times (an alias bomb?)`
        : firstLine((e as Error).message),
    );
  }
  let list: unknown;
  let prefix: Segment[];
  if (Array.isArray(root)) {
    list = root;
    prefix = [];
  } else if (root !== null && typeof root === 'object' && !Array.isArray(root)) {
    const extra = Object.keys(root).filter((k) => k !== 'policies');
    if (extra.length > 0) {
      return {
        ok: false,
        errors: extra.map((key) => ({
          file,
          ...at(keyOffset(doc, [], key) ?? 0),
          path: key,
          message: `unknown field "${key}" (expected a list of policies, or "policies:" with one)`,
        })),
      };
    }
    list = (root as { policies?: unknown }).policies ?? [];
    prefix = ['policies'];
  } else {
    return {
      ok: false,
      errors: [
        { file, line: 1, col: 1, path: '(root)', message: 'expected a list of policies, or "policies:" with one' },
      ],
    };
  }
  if (!Array.isArray(list)) {
    return {
      ok: false,
      errors: [
        { file, ...at(nearestOffset(doc, prefix)), path: dotted(prefix), message: 'expected a list of policies' },
      ],
    };
  }

  const policies: PolicySpec[] = [];
  const errors: PolicyIssue[] = [];
  list.forEach((item, i) => {
    const base = [...prefix, i];
    const type = item !== null && typeof item === 'object' ? (item as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !POLICY_TYPES.includes(type as PolicyType)) {
      const path = typeof item === 'object' && item !== null ? [...base, 'type'] : base;
      const message =
        type === undefined
          ? `missing policy type (one of: ${POLICY_TYPES.join(', ')})`
          : `unknown policy type ${JSON.stringify(type)} (one of: ${POLICY_TYPES.join(', ')})`;
      errors.push({ file, ...at(nearestOffset(doc, path)), path: dotted(path), message });
      return;
    }
    const result = PolicySpec.safeParse(item);
    if (result.success) {
      policies.push(result.data);
      return;
    }
    for (const issue of result.error.issues) {
      const path = [...base, ...issue.path.filter((s): s is Segment => typeof s !== 'symbol')];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const offset = keyOffset(doc, path, key) ?? nearestOffset(doc, path);
          errors.push({ file, ...at(offset), path: dotted([...path, key]), message: `unknown field "${key}"` });
        }
        continue;
      }
      errors.push({ file, ...at(nearestOffset(doc, path)), path: dotted(path), message: describe(issue) });
    }
  });
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, errors };
  }
  return { ok: true, policies };
}

/** `file:line:col: path: message`, one problem a line. */
export function formatPolicyIssues(issues: PolicyIssue[]): string {
  return issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n');
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function dotted(path: Segment[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `missing required field (expected ${issue.expected})`;
  }
  return issue.message;
}

function keyOffset(doc: Document, path: Segment[], key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return pair.key.range[0];
  }
  return undefined;
}

/** Offset of the node at `path`, or of its closest existing ancestor's key (for missing fields), or 0. */
function nearestOffset(doc: Document, path: Segment[]): number {
  for (let n = path.length; n > 0; n--) {
    const prefix = path.slice(0, n);
    const node = doc.getIn(prefix, true) as YamlNode | undefined;
    if (node && typeof node === 'object' && node.range) {
      if (n === path.length) return node.range[0];
      return keyOffset(doc, prefix.slice(0, -1), String(prefix[prefix.length - 1])) ?? node.range[0];
    }
  }
  const root = doc.contents as YamlNode | null;
  return root?.range?.[0] ?? 0;
}

/**
 * An upper bound of the document's nesting depth, from the lexer alone (a loop, so no input overflows the stack), given
 * up once past `limit`. Flow collections count by their brackets. Block collections are tracked by the column they
 * start at: a node at a column closes every block collection further right, and a column holds at most one open map
 * and one open sequence (a sequence may be the value of a key in the same column). Kept the same as the one in
 * libs/harness/src/agent-spec.ts: neither lib may import the other.
 */
export function nestingDepth(text: string, limit: number): number {
  const open: { col: number; kind: 'map' | 'seq' }[] = [];
  let flow = 0;
  let max = 0;
  let col = 0;
  let nodeCol = 0;
  let startsNode = true;
  let isScalarNext = false;
  const enter = (at: number, kind: 'map' | 'seq') => {
    while (open.length > 0 && open[open.length - 1].col > at) open.pop();
    const top = open[open.length - 1];
    if (top?.col === at && (top.kind === kind || open[open.length - 2]?.col === at)) return;
    open.push({ col: at, kind });
  };
  for (const token of new Lexer().lex(text)) {
    if (token === CST.SCALAR) {
      isScalarNext = true;
      continue;
    }
    if (token === CST.DOCUMENT) continue;
    const type = isScalarNext ? 'scalar' : CST.tokenType(token);
    isScalarNext = false;
    if (type === 'flow-error-end') flow = 0;
    else if (type === 'doc-start' || type === 'doc-end') open.length = 0;
    else if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
    else if (flow === 0 && type !== 'space' && type !== 'comment' && type !== 'newline') {
      if (startsNode) nodeCol = col;
      startsNode = false;
      if (type === 'seq-item-ind') enter(col, 'seq');
      else if (type === 'explicit-key-ind') enter(col, 'map');
      else if (type === 'map-value-ind') enter(nodeCol, 'map');
      if (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind') startsNode = true;
    }
    max = Math.max(max, open.length + flow);
    if (max > limit) return max;
    const newline = token.lastIndexOf('\n');
    if (newline === -1) col += token.length;
    else {
      col = token.length - newline - 1;
      startsNode = true;
    }
  }
  return max;
}
