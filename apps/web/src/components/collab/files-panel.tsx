'use client';

import type { Comment, SessionAccess, WorkspaceFile, WorkspaceListing } from '@yoke/protocol';
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { CommentThread } from '@/components/collab/comment-thread';
import { describeError } from '@/lib/api';
import { addComment, listFiles, readFile } from '@/lib/collab-api';
import { openThreadsByPath, threadsOf } from '@/lib/comments';

/**
 * The session workspace (served by its runner): browse folders, open a file with line numbers, comment on a line
 * range (click a line number; shift-click extends), and see each line's threads under it, live.
 */
export function FilesPanel({
  sessionId,
  access,
  comments,
  lastSeq,
  changeKey,
  onCommentChange,
}: {
  sessionId: string;
  access: SessionAccess | null;
  comments: Comment[];
  lastSeq: number;
  /** Changes whenever the agent may have changed files: the listing is read again. */
  changeKey: number;
  onCommentChange(c: Comment): void;
}) {
  const [dir, setDir] = useState('');
  const [listing, setListing] = useState<WorkspaceListing | null>(null);
  const [file, setFile] = useState<WorkspaceFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [range, setRange] = useState<{ start: number; end: number } | null>(null);
  const [draft, setDraft] = useState('');
  const canComment = access?.canComment ?? false;

  const load = useCallback(async () => {
    try {
      setListing(await listFiles(sessionId, dir));
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, [sessionId, dir]);

  useEffect(() => {
    void load();
  }, [load, changeKey]);

  const open = async (path: string) => {
    try {
      setFile(await readFile(sessionId, path));
      setRange(null);
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const threads = useMemo(() => threadsOf(comments), [comments]);
  const countByPath = useMemo(() => openThreadsByPath(threads), [threads]);

  const onLine = (n: number, extend: boolean) => {
    if (!canComment) return;
    setRange((r) => (extend && r ? { start: Math.min(r.start, n), end: Math.max(r.end, n) } : { start: n, end: n }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file || !range || !draft.trim()) return;
    try {
      onCommentChange(
        await addComment(sessionId, {
          anchor: { kind: 'file', path: file.path, lineStart: range.start, lineEnd: range.end, seq: lastSeq },
          body: draft,
        }),
      );
      setDraft('');
      setRange(null);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const lines = file && !file.isBinary ? file.content.replace(/\n$/, '').split('\n') : [];
  const fileThreads = file
    ? threads.filter((t) => t.root.anchor?.kind === 'file' && t.root.anchor.path === file.path)
    : [];
  const otherThreads = threads.filter((t) => t.root.anchor?.kind !== 'file');

  return (
    <section className="files-panel" aria-label="Files and comments" data-testid="files-panel">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <nav className="file-nav">
        <div className="file-nav-head">
          <strong>{dir || 'Workspace'}</strong>
          {dir && (
            <button type="button" className="secondary" onClick={() => setDir(dir.split('/').slice(0, -1).join('/'))}>
              Up
            </button>
          )}
          <button type="button" className="secondary" onClick={() => void load()}>
            Refresh
          </button>
        </div>
        <ul className="file-list" data-testid="file-list">
          {listing?.entries.map((e) => (
            <li key={e.path}>
              <button
                type="button"
                className="link-button"
                onClick={() => (e.kind === 'dir' ? setDir(e.path) : void open(e.path))}
                data-testid="file-entry"
                data-path={e.path}
              >
                {e.kind === 'dir' ? '📁 ' : ''}
                {e.name}
              </button>
              {countByPath.get(e.path) ? (
                <span className="chip" title="Open comment threads" data-testid="file-comment-count">
                  {countByPath.get(e.path)}
                </span>
              ) : null}
            </li>
          ))}
          {listing && listing.entries.length === 0 && <li className="muted small">Empty.</li>}
        </ul>
      </nav>
      {file && (
        <div className="file-view" data-testid="file-view" data-path={file.path}>
          <h3 className="file-title">{file.path}</h3>
          {file.isBinary && <p className="muted">Binary file ({file.size} bytes).</p>}
          {file.truncated && <p className="muted small">Shown truncated.</p>}
          <ol className="code-lines">
            {lines.map((text, i) => {
              const n = i + 1;
              const selected = range !== null && n >= range.start && n <= range.end;
              const here = fileThreads.filter((t) => t.root.anchor?.kind === 'file' && t.root.anchor.lineEnd === n);
              return (
                <li key={n} className={selected ? 'selected' : undefined} data-testid="code-line" data-line={n}>
                  <div className="code-row">
                    <button
                      type="button"
                      className="line-no"
                      onClick={(e) => onLine(n, e.shiftKey)}
                      disabled={!canComment}
                      aria-label={canComment ? `Comment on line ${n}` : `Line ${n}`}
                      data-testid="line-comment"
                    >
                      {n}
                    </button>
                    <code>{text}</code>
                  </div>
                  {selected && range.end === n && (
                    <form className="comment-form" onSubmit={(e) => void submit(e)}>
                      <label>
                        <span className="sr-only">
                          Comment on lines {range.start}–{range.end}
                        </span>
                        <textarea
                          value={draft}
                          onChange={(e) => setDraft(e.target.value)}
                          rows={2}
                          autoFocus
                          placeholder={`Comment on line${range.start === range.end ? ` ${n}` : `s ${range.start}–${range.end}`}`}
                          data-testid="comment-input"
                        />
                      </label>
                      <div className="form-row">
                        <button type="submit" disabled={!draft.trim()} data-testid="comment-submit">
                          Comment
                        </button>
                        <button type="button" className="secondary" onClick={() => setRange(null)}>
                          Cancel
                        </button>
                      </div>
                    </form>
                  )}
                  {here.map((t) => (
                    <CommentThread
                      key={t.root.id}
                      sessionId={sessionId}
                      root={t.root}
                      replies={t.replies}
                      canComment={canComment}
                      onChange={onCommentChange}
                    />
                  ))}
                </li>
              );
            })}
          </ol>
        </div>
      )}
      {otherThreads.length > 0 && (
        <div className="other-threads">
          <h3>Comments on items</h3>
          {otherThreads.map((t) => (
            <CommentThread
              key={t.root.id}
              sessionId={sessionId}
              root={t.root}
              replies={t.replies}
              canComment={canComment}
              onChange={onCommentChange}
            />
          ))}
        </div>
      )}
    </section>
  );
}
