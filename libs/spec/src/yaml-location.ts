import { isMap, isScalar } from 'yaml';
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import type { z } from 'zod';

/** A path into a YAML document, as zod reports it (`['tools', 'shell']`, `['policies', 2]`). */
export type YamlPath = (string | number)[];

/** A problem in a YAML document at a 1-based line and column, with the dotted path of the field it concerns. */
export interface LocatedIssue {
  line: number;
  column: number;
  /** Dotted path (`tools.shell`, `(root)` for the document); empty for syntax errors. */
  path: string;
  message: string;
}

/** 1-based line and column of a character offset. */
export function positionAt(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** The document's syntax errors, each at its position. */
export function syntaxIssues(doc: Document.Parsed, lineCounter: LineCounter): LocatedIssue[] {
  return doc.errors.map((e) => ({
    ...positionAt(lineCounter, e.pos[0]),
    path: '',
    message: yamlErrorMessage(e.message),
  }));
}

/**
 * Places the issues of a schema that validated the value at `base` in the document: an unknown key at the key itself,
 * any other issue at its node, or at the key of its closest existing ancestor when the node is missing.
 */
export function schemaIssues(
  doc: Document,
  lineCounter: LineCounter,
  issues: readonly z.core.$ZodIssue[],
  base: YamlPath = [],
): LocatedIssue[] {
  const located: LocatedIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.filter((s): s is string | number => typeof s !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const offset = keyOffset(doc, path, key) ?? nearestOffset(doc, path);
        located.push({
          ...positionAt(lineCounter, offset),
          path: dottedPath([...path, key]),
          message: `unknown field "${key}"`,
        });
      }
      continue;
    }
    located.push({
      ...positionAt(lineCounter, nearestOffset(doc, path)),
      path: dottedPath(path),
      message: describeIssue(issue),
    });
  }
  return located;
}

/** `tools.shell`, or `(root)` for the document itself. */
export function dottedPath(path: YamlPath): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** A zod issue in the words of a file's author: a missing field says so instead of "received undefined". */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `missing required field (expected ${issue.expected})`;
  }
  return issue.message;
}

/** Offset of the key `key` inside the mapping at `path`, when there is one. */
export function keyOffset(doc: Document, path: YamlPath, key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return pair.key.range[0];
  }
  return undefined;
}

/** Offset of the node at `path`, or of its closest existing ancestor's key (for missing fields), or 0. */
export function nearestOffset(doc: Document, path: YamlPath): number {
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

/** The first line of a `yaml` error message, without the position it appends (callers give their own). */
export function yamlErrorMessage(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}
