import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import typescript from 'highlight.js/lib/languages/typescript';
import yaml from 'highlight.js/lib/languages/yaml';
import type { TokenNode } from './highlight-tokens';

/**
 * Syntax highlighting for code in agent text and workspace files: highlight.js's core with the grammars registered
 * here only (its `common` set would bundle 37). Its token tree is drawn as React elements (lib/highlight-tokens,
 * `CodeTokens`), never as an HTML string. Pages load this module on first use (`useHighlighter`), so code shows
 * plain for a moment and the grammars are not part of a page's first load.
 */
const GRAMMARS = { bash, diff, go, javascript, json, python, rust, shell, typescript, yaml };
for (const [name, grammar] of Object.entries(GRAMMARS)) hljs.registerLanguage(name, grammar);

/** `text`'s token tree in a registered language; null for any other language. */
export function highlightTokens(text: string, language: string): (string | TokenNode)[] | null {
  if (!hljs.getLanguage(language)) return null;
  const result = hljs.highlight(text, { language, ignoreIllegals: true }) as unknown as {
    _emitter: { rootNode: TokenNode };
  };
  return result._emitter.rootNode.children;
}
