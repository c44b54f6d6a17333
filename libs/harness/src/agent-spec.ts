import { readFile } from 'node:fs/promises';
import { AgentSpec, AppError, MAX_AGENT_YAML } from '@yoke/protocol';
import { parseYamlDocument, yamlErrorMessage, type YamlLimits } from '@yoke/yaml-guard';
import { isMap, isScalar } from 'yaml';
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
export const AGENT_YAML_LIMITS: YamlLimits = { maxLength: MAX_AGENT_YAML, maxDepth: 64, maxAliases: 100 };

/** Parses an agent YAML document and validates it; throws `AgentSpecError` listing every problem with its position. */
export function parseAgentYaml(text: string, file = '<agent>'): AgentSpec {
  const parsed = parseYamlDocument(text, { ...AGENT_YAML_LIMITS, what: 'agent file' });
  if (!parsed.ok) {
    throw new AgentSpecError([{ file, line: 1, column: 1, path: '', message: parsed.refusal.message }]);
  }
  const { doc, lineCounter, value } = parsed;
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  if (doc.errors.length > 0) {
    throw new AgentSpecError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: yamlErrorMessage(e.message) })),
    );
  }
  if (doc.contents === null) {
    throw new AgentSpecError([{ file, line: 1, column: 1, path: '(root)', message: 'agent file is empty' }]);
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
