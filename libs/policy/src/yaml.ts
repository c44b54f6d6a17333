import { MAX_POLICY_YAML, type PolicyIssue } from '@yoke/protocol';
import { parseYamlDocument, yamlErrorMessage, type YamlLimits } from '@yoke/yaml-guard';
import { isMap, isScalar } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { POLICY_TYPES, PolicySpec, type PolicyType } from './spec';

type Segment = string | number;

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
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };

  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: yamlErrorMessage(e.message) })),
    };
  }
  if (doc.contents === null) return { ok: true, policies: [] };

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
