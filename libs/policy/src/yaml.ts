import { MAX_POLICY_YAML, type PolicyIssue } from '@yoke/protocol';
import {
  dottedPath,
  keyOffset,
  type LocatedIssue,
  nearestOffset,
  parseYamlDocument,
  positionAt,
  schemaIssues,
  syntaxIssues,
  type YamlLimits,
  type YamlPath,
} from '@yoke/spec';
import { POLICY_TYPES, PolicySpec, type PolicyType } from './spec';

export type PolicyYamlResult = { ok: true; policies: PolicySpec[] } | { ok: false; errors: PolicyIssue[] };

/** Limits on a policy file, which members may send with a session as well as admins for the org. */
export const POLICY_YAML_LIMITS: YamlLimits = { maxLength: MAX_POLICY_YAML, maxDepth: 64, maxAliases: 100 };

/**
 * Parses policy YAML: either a list of policies or `{ policies: [...] }`; an empty document has none. Lists every
 * problem with its file, dotted path (`policies.2.ask_at.0`) and 1-based line and column.
 */
export function parsePolicyYaml(text: string, file: string): PolicyYamlResult {
  const parsed = parseYamlDocument(text, { ...POLICY_YAML_LIMITS, what: 'policy file' });
  if (!parsed.ok) return { ok: false, errors: [{ file, line: 1, col: 1, path: '', message: parsed.refusal.message }] };
  const { doc, lineCounter, value: root } = parsed;
  const at = (offset: number): { line: number; col: number } => {
    const { line, column } = positionAt(lineCounter, offset);
    return { line, col: column };
  };
  const inFile = ({ column, ...issue }: LocatedIssue): PolicyIssue => ({ file, ...issue, col: column });

  if (doc.errors.length > 0) return { ok: false, errors: syntaxIssues(doc, lineCounter).map(inFile) };
  if (doc.contents === null) return { ok: true, policies: [] };

  let list: unknown;
  let prefix: YamlPath;
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
        { file, ...at(nearestOffset(doc, prefix)), path: dottedPath(prefix), message: 'expected a list of policies' },
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
      errors.push({ file, ...at(nearestOffset(doc, path)), path: dottedPath(path), message });
      return;
    }
    const result = PolicySpec.safeParse(item);
    if (result.success) {
      policies.push(result.data);
      return;
    }
    errors.push(...schemaIssues(doc, lineCounter, result.error.issues, base).map(inFile));
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
