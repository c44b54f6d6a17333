import { readFile } from 'node:fs/promises';
import { AgentSpec, AppError, MAX_AGENT_YAML } from '@yoke/protocol';
import { parseYamlDocument, type YamlLimits } from './parse-yaml-document';
import { schemaIssues, syntaxIssues } from './yaml-location';

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

/** Limits on an agent file, which may come from anyone allowed to start a session. */
export const AGENT_YAML_LIMITS: YamlLimits = { maxLength: MAX_AGENT_YAML, maxDepth: 64, maxAliases: 100 };

/** Parses an agent YAML document and validates it; throws `AgentSpecError` listing every problem with its position. */
export function parseAgentYaml(text: string, file = '<agent>'): AgentSpec {
  const parsed = parseYamlDocument(text, { ...AGENT_YAML_LIMITS, what: 'agent file' });
  if (!parsed.ok) {
    throw new AgentSpecError([{ file, line: 1, column: 1, path: '', message: parsed.refusal.message }]);
  }
  const { doc, lineCounter, value } = parsed;
  if (doc.errors.length > 0) {
    throw new AgentSpecError(syntaxIssues(doc, lineCounter).map((issue) => ({ file, ...issue })));
  }
  if (doc.contents === null) {
    throw new AgentSpecError([{ file, line: 1, column: 1, path: '(root)', message: 'agent file is empty' }]);
  }

  const result = AgentSpec.safeParse(value);
  if (result.success) return result.data;
  const issues = schemaIssues(doc, lineCounter, result.error.issues).map((issue) => ({ file, ...issue }));
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
