import { readFile } from 'node:fs/promises';
import { AgentSpec, AppError } from '@yoke/protocol';
import { CST, isMap, isScalar, Lexer, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { z } from 'zod';

/** One problem in an agent file, located at a 1-based line and column. */
export interface AgentSpecIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the offending field (`tools.shell`); empty for YAML syntax errors. */
  path: string;
  message: string;
}

/** An agent file that is not valid YAML or does not satisfy the `AgentSpec` schema. Lists every problem. */
export class AgentSpecError extends AppError {
  constructor(readonly issues: AgentSpecIssue[]) {
    super('agent.invalid', formatIssues(issues), { issues });
    this.name = 'AgentSpecError';
  }
}

export function formatIssues(issues: AgentSpecIssue[]): string {
  return issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n');
}

type Segment = string | number;

/** Limits on an agent file, which may come from anyone allowed to start a session. */
export const AGENT_YAML_LIMITS = {
  /** Characters in the document. */
  maxLength: 256 * 1024,
  /** Collections inside collections. */
  maxDepth: 64,
  /** Alias expansions (`yaml`'s `maxAliasCount`): a handful of aliases can otherwise expand to billions of nodes. */
  maxAliases: 100,
} as const;

/** Parses an agent YAML document and validates it; throws `AgentSpecError` listing every problem with its position. */
export function parseAgentYaml(text: string, file = '<agent>'): AgentSpec {
  const { maxLength, maxDepth, maxAliases } = AGENT_YAML_LIMITS;
  const refuse = (message: string) => new AgentSpecError([{ file, line: 1, column: 1, path: '', message }]);
  if (text.length > maxLength) {
    throw refuse(`agent file is too large (${text.length} characters; the limit is ${maxLength})`);
  }
  // Checked before composing: the composer recurses once per level, and a deep enough document overflows the stack.
  if (nestingDepth(text, maxDepth) > maxDepth) {
    throw refuse(`agent file nests collections more than ${maxDepth} levels deep`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: false });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  if (doc.errors.length > 0) {
    throw new AgentSpecError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: firstLine(e.message) })),
    );
  }
  if (doc.contents === null) {
    throw new AgentSpecError([{ file, line: 1, column: 1, path: '(root)', message: 'agent file is empty' }]);
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: maxAliases });
  } catch (e) {
    throw refuse(
      e instanceof ReferenceError && /alias count/i.test(e.message)
        ? `agent file expands aliases more than ${maxAliases} times (an alias bomb?)`
        : firstLine((e as Error).message),
    );
  }
  const result = AgentSpec.safeParse(value);
  if (result.success) return result.data;

  const issues: AgentSpecIssue[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.filter((s): s is Segment => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const offset = keyOffset(doc, path, key) ?? nearestOffset(doc, path);
        issues.push({ file, ...at(offset), path: dotted([...path, key]), message: `unknown field "${key}"` });
      }
      continue;
    }
    issues.push({ file, ...at(nearestOffset(doc, path)), path: dotted(path), message: describe(issue) });
  }
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  throw new AgentSpecError(issues);
}

/** Reads and parses an agent YAML file from disk. */
export async function loadAgentFile(path: string): Promise<AgentSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AppError('agent.invalid', `cannot read agent file ${path}: ${(e as Error).message}`);
  }
  return parseAgentYaml(text, path);
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

/** Offset of the key `key` inside the mapping at `path`, when there is one. */
function keyOffset(doc: Document, path: Segment[], key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return pair.key.range[0];
  }
  return undefined;
}

/** Offset of the node at `path`, or of its closest existing ancestor (for missing fields), or 0. */
function nearestOffset(doc: Document, path: Segment[]): number {
  for (let n = path.length; n > 0; n--) {
    const prefix = path.slice(0, n);
    const node = doc.getIn(prefix, true) as YamlNode | undefined;
    if (node && typeof node === 'object' && node.range) {
      // For a missing child, point at the parent's key so the message lands on a meaningful line.
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
 * and one open sequence (a sequence may be the value of a key in the same column).
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
