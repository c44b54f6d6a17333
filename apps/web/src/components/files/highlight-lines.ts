import { scopeClass, type Tokenize, type TokenNode } from '@/lib/highlight-tokens';

/** A run of text on one line with the highlight classes of every scope around it (`hljs-keyword`, …). */
export type Segment = { text: string; className: string };

/** File extensions of the grammars the markdown view registers (one highlighter for the whole UI). */
const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  json: 'json',
  py: 'python',
  rs: 'rust',
  go: 'go',
  sh: 'bash',
  bash: 'bash',
  zsh: 'bash',
  yml: 'yaml',
  yaml: 'yaml',
  diff: 'diff',
  patch: 'diff',
};

export function languageOfPath(path: string): string | null {
  const name = path.split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? (LANGUAGE_BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? null) : null;
}

/**
 * The file's lines, each a list of segments: highlighted when a highlighter is given and the language is registered,
 * else one plain segment per line. Tokens spanning lines (block comments, template strings) keep their classes on
 * every line they cover.
 */
export function highlightLines(text: string, language: string | null, tokenize: Tokenize | null): Segment[][] {
  const tokens = language && tokenize ? tokenize(text, language) : null;
  const lines: Segment[][] = [[]];
  const push = (value: string, className: string) => {
    value.split('\n').forEach((piece, i) => {
      if (i > 0) lines.push([]);
      if (piece) lines[lines.length - 1].push({ text: piece, className });
    });
  };
  const walk = (node: string | TokenNode, classes: string[]) => {
    if (typeof node === 'string') return push(node, classes.join(' '));
    const inner = node.scope && !node.scope.startsWith('language:') ? [...classes, ...scopeClass(node.scope)] : classes;
    for (const child of node.children) walk(child, inner);
  };
  if (tokens) for (const t of tokens) walk(t, []);
  else push(text, '');
  if (lines.length > 1 && lines[lines.length - 1].length === 0 && text.endsWith('\n')) lines.pop();
  return lines;
}
