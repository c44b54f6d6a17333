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

/**
 * Syntax highlighting for fenced code in agent text, as a rehype plugin that builds hast elements (never an HTML
 * string). Only the grammars registered here are bundled: rehype-highlight imports lowlight's `common` set (37
 * grammars, about 100 kB gzipped) whatever languages it is given, so highlight.js's core is used directly and its
 * token tree turned into hast. A fence in another language stays plain code.
 */
const GRAMMARS = { bash, diff, go, javascript, json, python, rust, shell, typescript, yaml };
for (const [name, grammar] of Object.entries(GRAMMARS)) hljs.registerLanguage(name, grammar);

type Text = { type: 'text'; value: string };
type Element = {
  type: 'element';
  tagName: string;
  properties: Record<string, unknown>;
  children: HastNode[];
};
type HastNode = { type: string; children?: HastNode[]; value?: string } | Text | Element;
type Root = { type: 'root'; children: HastNode[] };

/** highlight.js's token tree (the default emitter's): a scope and its text and nested scopes. */
type TokenNode = { scope?: string; children: (string | TokenNode)[] };

function scopeClass(scope: string): string[] {
  if (scope.startsWith('language:')) return [`language-${scope.slice('language:'.length)}`];
  const [head, ...rest] = scope.split('.');
  return [`hljs-${head}`, ...rest.map((piece, i) => `${piece}${'_'.repeat(i + 1)}`)];
}

function toHast(node: string | TokenNode): HastNode {
  if (typeof node === 'string') return { type: 'text', value: node };
  const children = node.children.map(toHast);
  if (!node.scope) return { type: 'element', tagName: 'span', properties: {}, children };
  return { type: 'element', tagName: 'span', properties: { className: scopeClass(node.scope) }, children };
}

const childrenOf = (node: HastNode): HastNode[] => ('children' in node && node.children) || [];

function textOf(node: HastNode): string {
  if (node.type === 'text') return (node as Text).value;
  return childrenOf(node).map(textOf).join('');
}

const isElement = (n: HastNode, tag: string): n is Element => n.type === 'element' && (n as Element).tagName === tag;

function languageOf(code: Element): string | null {
  const classes = code.properties.className;
  if (!Array.isArray(classes)) return null;
  for (const c of classes) {
    if (typeof c === 'string' && c.startsWith('language-')) return c.slice('language-'.length);
  }
  return null;
}

/** Highlights `code`'s text in place when its language is registered; true when it did. */
export function highlightCode(code: Element): boolean {
  const language = languageOf(code);
  if (!language || !hljs.getLanguage(language)) return false;
  const result = hljs.highlight(textOf(code), { language, ignoreIllegals: true }) as unknown as {
    _emitter: { rootNode: TokenNode };
  };
  code.children = result._emitter.rootNode.children.map(toHast);
  code.properties.className = ['hljs', ...(code.properties.className as string[])];
  return true;
}

function walk(node: HastNode): void {
  for (const child of childrenOf(node)) {
    if (isElement(node, 'pre') && isElement(child, 'code')) highlightCode(child);
    else walk(child);
  }
}

export function rehypeHighlightCode() {
  return (tree: Root) => walk(tree);
}
