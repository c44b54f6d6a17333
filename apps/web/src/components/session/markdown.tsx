'use client';

import { isValidElement, memo, type ReactElement, type ReactNode, useMemo, useRef, useState } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { codeTokens } from '@/components/session/code-tokens';
import { useHighlighter } from '@/hooks/use-highlighter';

/**
 * A fenced code block with a Copy button (the text as the reader sees it). Code in a known language is highlighted
 * once the highlighter has loaded (`useHighlighter`); until then, and in any other language, it is plain.
 */
function CodeBlock({ children }: { children?: ReactNode }) {
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const code = isValidElement<{ className?: string; children?: ReactNode }>(children) ? children : null;
  const className = code?.props.className ?? '';
  const language = /(?:^|\s)language-(\S+)/.exec(className)?.[1] ?? null;
  const text = typeof code?.props.children === 'string' ? code.props.children : null;
  const tokenize = useHighlighter(language !== null && text !== null);
  const tokens = useMemo(
    () => (tokenize && language && text !== null ? tokenize(text, language) : null),
    [tokenize, language, text],
  );
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(ref.current?.textContent ?? '');
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
    setTimeout(() => setCopied('idle'), 2000);
  };
  return (
    <div className="code-block">
      <button type="button" className="code-copy" onClick={() => void copy()} data-testid="code-copy">
        {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy'}
      </button>
      <pre ref={ref} className="code">
        {tokens ? <code className={`hljs ${className}`}>{codeTokens(tokens)}</code> : children}
      </pre>
    </div>
  );
}

const COMPONENTS: Components = {
  pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
  table: ({ children }) => (
    <div className="md-table">
      <table>{children}</table>
    </div>
  ),
};

/**
 * Agent text as GitHub-flavoured markdown (tables, task lists, strikethrough, blockquotes) with highlighted code.
 * Raw HTML in the text is shown as text, never parsed (no rehype-raw), and unsafe link protocols are dropped by
 * react-markdown's URL transform.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return <div className="md">{rendered(text)}</div>;
});

/** Rendered texts kept for reuse: a long conversation's rows are drawn again as they scroll back into view. */
const CACHE_ENTRIES = 500;
/** Longer texts are parsed each time they are drawn, so the cache stays small. */
const CACHE_MAX_CHARS = 20_000;
const cache = new Map<string, ReactElement>();

/**
 * The markdown tree of `text`: parsing and highlighting run once per text (least recently drawn texts are
 * forgotten first), not every time a row that scrolled out of the window is drawn again.
 */
function rendered(text: string): ReactElement {
  const hit = cache.get(text);
  if (hit) {
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const tree = ReactMarkdown({
    children: text,
    remarkPlugins: [remarkGfm],
    components: COMPONENTS,
  });
  if (text.length <= CACHE_MAX_CHARS) {
    cache.set(text, tree);
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  }
  return tree;
}
