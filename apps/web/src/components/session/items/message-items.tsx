import type { ContentPart } from '@yoke/protocol';
import { useCollabContext } from '@/components/collab/collab-context';
import { Markdown } from '@/components/session/markdown';
import type { ItemOf } from '@/components/session/items/item-types';

function Part({ part }: { part: ContentPart }) {
  if (part.type === 'text') return <p className="user-text">{part.text}</p>;
  return (
    <p className="file-part">
      <span className="chip">file</span> <code>{part.path}</code>
    </p>
  );
}

export function UserMessage({ item }: { item: ItemOf<'user_message'> }) {
  return (
    <div className="bubble user" data-testid="user-message">
      <div className="bubble-author">{item.actor?.name || 'You'}</div>
      {item.content.map((part, i) => (
        <Part key={i} part={part} />
      ))}
    </div>
  );
}

/** An agent message bubble; the live one (`isStreaming`) and the final item share this markup. */
export function AgentBubble({
  text,
  streamId,
  isStreaming,
}: {
  text: string;
  streamId?: string;
  isStreaming: boolean;
}) {
  return (
    <div
      className={`bubble agent${isStreaming ? ' streaming' : ''}`}
      data-testid="message-bubble"
      data-stream-id={streamId}
      data-streaming={isStreaming}
      aria-busy={isStreaming}
    >
      <Markdown text={text} />
      {isStreaming && <span className="caret" aria-hidden="true" />}
    </div>
  );
}

export function AgentMessage({ item }: { item: ItemOf<'agent_message'> }) {
  return (
    <>
      <AgentBubble text={item.text} streamId={item.streamId} isStreaming={false} />
      <ItemActions seq={item.seq} />
    </>
  );
}

/** Fork from here (anyone signed in who can see the session) and comment on this item (commenters and up). */
function ItemActions({ seq }: { seq: number }) {
  const ctx = useCollabContext();
  if (!ctx?.access) return null;
  const count = ctx.comments.filter((c) => !c.threadId && c.anchor?.kind === 'item' && c.anchor.seq === seq).length;
  return (
    <div className="item-actions">
      {!ctx.access.isGuest && (
        <button type="button" className="link-button small" onClick={() => ctx.fork(seq)} data-testid="fork-here">
          Fork from here
        </button>
      )}
      {ctx.access.canComment && (
        <button
          type="button"
          className="link-button small"
          onClick={() => ctx.commentOnItem(seq)}
          data-testid="comment-item"
        >
          Comment{count ? ` (${count})` : ''}
        </button>
      )}
    </div>
  );
}

export function ReasoningBlock({
  text,
  streamId,
  isStreaming,
}: {
  text: string;
  streamId?: string;
  isStreaming: boolean;
}) {
  return (
    <details className="reasoning" data-testid="reasoning" data-stream-id={streamId} data-streaming={isStreaming}>
      <summary>{isStreaming ? 'Thinking…' : 'Reasoning'}</summary>
      <div className="reasoning-text">{text}</div>
    </details>
  );
}

export function Reasoning({ item }: { item: ItemOf<'reasoning'> }) {
  return <ReasoningBlock text={item.text} streamId={item.streamId} isStreaming={false} />;
}
