'use client';

import type { Comment } from '@yoke/protocol';
import { useState, type FormEvent } from 'react';
import { Avatar } from '@/components/collab/avatar';
import { Markdown } from '@/components/session/markdown';
import { describeError } from '@/lib/api';
import { addComment, setResolved } from '@/lib/collab-api';

/**
 * One thread: its first comment, the replies (each rendered as markdown, never as raw HTML), a reply box and
 * resolve/reopen (commenters and up).
 */
export function CommentThread({
  sessionId,
  root,
  replies,
  canComment,
  onChange,
}: {
  sessionId: string;
  root: Comment;
  replies: Comment[];
  canComment: boolean;
  onChange(c: Comment): void;
}) {
  const [reply, setReply] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (fn: () => Promise<Comment>) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await fn());
      return true;
    } catch (err) {
      setError(describeError(err));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const onReply = async (e: FormEvent) => {
    e.preventDefault();
    if (!reply.trim()) return;
    if (await run(() => addComment(sessionId, { threadId: root.id, body: reply }))) setReply('');
  };

  const anchor =
    root.anchor?.kind === 'file'
      ? `${root.anchor.path}:${root.anchor.lineStart}${root.anchor.lineEnd !== root.anchor.lineStart ? `-${root.anchor.lineEnd}` : ''}`
      : root.anchor?.kind === 'item'
        ? `#${root.anchor.seq}`
        : '';

  return (
    <article
      className={`thread${root.resolved ? ' resolved' : ''}`}
      data-testid="comment-thread"
      data-thread-id={root.id}
      data-resolved={root.resolved}
    >
      <header className="thread-head">
        <span className="muted small">{anchor}</span>
        {root.resolved && (
          <span className="chip" data-testid="thread-resolved">
            Resolved{root.resolvedBy ? ` by ${root.resolvedBy.name}` : ''}
          </span>
        )}
      </header>
      {[root, ...replies].map((c) => (
        <div key={c.id} className="comment" data-testid="comment">
          <Avatar id={c.author.id} name={c.author.name} />
          <div>
            <div className="small">
              <strong>{c.author.name}</strong>{' '}
              <time className="muted" dateTime={c.createdAt}>
                {new Date(c.createdAt).toLocaleTimeString()}
              </time>
            </div>
            <div className="comment-body comment-md" data-testid="comment-body">
              <Markdown text={c.body} />
            </div>
          </div>
        </div>
      ))}
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {canComment && (
        <div className="thread-actions">
          <form onSubmit={(e) => void onReply(e)} className="form-row">
            <label className="grow">
              <span className="sr-only">Reply</span>
              <input
                value={reply}
                onChange={(e) => setReply(e.target.value)}
                placeholder="Reply…"
                data-testid="reply-input"
              />
            </label>
            <button type="submit" className="secondary" disabled={busy || !reply.trim()}>
              Reply
            </button>
          </form>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => void run(() => setResolved(sessionId, root.id, !root.resolved))}
            data-testid="thread-resolve"
          >
            {root.resolved ? 'Reopen' : 'Resolve'}
          </button>
        </div>
      )}
    </article>
  );
}
