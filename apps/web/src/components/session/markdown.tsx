import { memo, useMemo } from 'react';
import { parseBlocks, parseInline, type Block } from '@/lib/markdown';

function InlineText({ text }: { text: string }) {
  return (
    <>
      {parseInline(text).map((part, i) => {
        switch (part.kind) {
          case 'text':
            return <span key={i}>{part.text}</span>;
          case 'code':
            return <code key={i}>{part.text}</code>;
          case 'bold':
            return <strong key={i}>{part.text}</strong>;
          case 'link':
            return (
              <a key={i} href={part.href} target="_blank" rel="noreferrer noopener">
                {part.text}
              </a>
            );
        }
      })}
    </>
  );
}

function BlockView({ block }: { block: Block }) {
  switch (block.kind) {
    case 'code':
      return (
        <pre className="code" data-lang={block.lang || undefined}>
          <code>{block.text}</code>
        </pre>
      );
    case 'heading': {
      const Tag = (['h3', 'h4', 'h5', 'h6'] as const)[Math.min(block.level, 4) - 1];
      return (
        <Tag className="md-heading">
          <InlineText text={block.text} />
        </Tag>
      );
    }
    case 'list': {
      const Tag = block.ordered ? 'ol' : 'ul';
      return (
        <Tag>
          {block.items.map((item, i) => (
            <li key={i}>
              <InlineText text={item} />
            </li>
          ))}
        </Tag>
      );
    }
    case 'paragraph':
      return (
        <p>
          <InlineText text={block.text} />
        </p>
      );
  }
}

/** Agent text as simple markdown; never HTML. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const blocks = useMemo(() => parseBlocks(text), [text]);
  return (
    <div className="md">
      {blocks.map((b, i) => (
        <BlockView key={i} block={b} />
      ))}
    </div>
  );
});
