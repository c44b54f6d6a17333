import { createElement, type ReactNode } from 'react';
import { scopeClass, type TokenNode } from '@/lib/highlight-tokens';

/** highlight.js's token tree as React elements: spans with its classes around text, never an HTML string. */
export function codeTokens(nodes: (string | TokenNode)[], path = ''): ReactNode[] {
  return nodes.map((node, i) =>
    typeof node === 'string'
      ? node
      : createElement(
          'span',
          { key: `${path}${i}`, className: node.scope ? scopeClass(node.scope).join(' ') : undefined },
          ...codeTokens(node.children, `${path}${i}.`),
        ),
  );
}
