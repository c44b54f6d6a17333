/**
 * highlight.js's token tree and its class names, apart from the highlighter itself: the views that draw tokens load
 * the highlighter (`lib/highlight`, with its grammars) only once a page shows code (`useHighlighter`).
 */

/** highlight.js's token tree (the default emitter's): a scope and its text and nested scopes. */
export type TokenNode = { scope?: string; children: (string | TokenNode)[] };

/** The classes of a scope as highlight.js's own HTML renderer writes them (`hljs-title function_`). */
export function scopeClass(scope: string): string[] {
  if (scope.startsWith('language:')) return [`language-${scope.slice('language:'.length)}`];
  const [head, ...rest] = scope.split('.');
  return [`hljs-${head}`, ...rest.map((piece, i) => `${piece}${'_'.repeat(i + 1)}`)];
}

/** Turns `text` into a token tree in a language, or null when that language is not registered. */
export type Tokenize = (text: string, language: string) => (string | TokenNode)[] | null;
