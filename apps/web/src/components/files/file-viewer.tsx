'use client';

import type { Comment, WorkspaceFile } from '@yoke/protocol';
import { useMemo, useState, type FormEvent } from 'react';
import { CommentThread } from '@/components/collab/comment-thread';
import { highlightLines, languageOfPath } from '@/components/files/highlight-lines';
import { useHighlighter } from '@/hooks/use-highlighter';
import { PlusIcon } from '@/components/files/icons';
import type { Thread } from '@/lib/comments';

/*
 * The viewer's rows: single-spaced (20 px), the gutter sticky on the left and aligned with the code. A selected line
 * takes the warning background, gutter included.
 */
const CODE = 'overflow-x-auto rounded-sm bg-code-bg py-1 font-mono text-[13px] leading-[20px]';
const ROW = 'flex min-h-[20px] items-stretch whitespace-pre';
const GUTTER =
  'sticky left-0 flex w-[4.75em] flex-none items-center gap-0.5 border-r border-border pr-2 pl-0.5 text-muted select-none';
/** The "+" that starts a comment: shown on the line's hover, on focus, when selected, and always on touch screens. */
const ADD =
  'inline-flex size-[18px] min-h-0 items-center justify-center rounded-[4px] p-0 group-hover/line:opacity-100 focus-visible:opacity-100 [@media(hover:none)]:opacity-100';
const TEXT = 'flex-1 bg-transparent px-2.5 py-0 [font:inherit] whitespace-pre group-hover/line:bg-accent/6';
/** A comment form or the threads under a line: body text again, not code. */
const UNDER_LINE = 'mx-2.5 my-1.5 font-sans text-[14px] leading-[1.5] whitespace-normal';

export type LineRange = { start: number; end: number };

/**
 * One workspace file: highlighted code on single-spaced rows, each with its line number in a gutter and, on hover or
 * focus, a "+" to comment on it (shift-click extends the range). A line's threads show under it.
 */
export function FileViewer({
  sessionId,
  file,
  threads,
  canComment,
  onComment,
  onCommentChange,
}: {
  sessionId: string;
  file: WorkspaceFile;
  /** This file's threads. */
  threads: Thread[];
  canComment: boolean;
  /** Posts a new thread on the range; resolves when it was saved. */
  onComment(range: LineRange, body: string): Promise<boolean>;
  onCommentChange(c: Comment): void;
}) {
  const [range, setRange] = useState<LineRange | null>(null);
  const [draft, setDraft] = useState('');
  const language = languageOfPath(file.path);
  const tokenize = useHighlighter(language !== null && !file.isBinary);
  const lines = useMemo(
    () => (file.isBinary ? [] : highlightLines(file.content, language, tokenize)),
    [file.content, file.isBinary, language, tokenize],
  );
  const byLine = useMemo(() => {
    const m = new Map<number, Thread[]>();
    for (const t of threads) {
      if (t.root.anchor?.kind !== 'file') continue;
      const end = t.root.anchor.lineEnd;
      m.set(end, [...(m.get(end) ?? []), t]);
    }
    return m;
  }, [threads]);

  const onLine = (n: number, extend: boolean) => {
    if (!canComment) return;
    setRange((r) => (extend && r ? { start: Math.min(r.start, n), end: Math.max(r.end, n) } : { start: n, end: n }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!range || !draft.trim()) return;
    if (await onComment(range, draft)) {
      setDraft('');
      setRange(null);
    }
  };

  return (
    <div data-testid="file-view" data-path={file.path} data-language={language ?? ''}>
      <h3 className="mt-0 mb-1.5 font-mono text-[13px] wrap-anywhere">{file.path}</h3>
      {file.isBinary && <p className="muted">Binary file ({file.size} bytes).</p>}
      {file.truncated && <p className="muted small">Shown truncated.</p>}
      {!file.isBinary && (
        <div className={`${CODE}${language ? ' hljs' : ''}`} role="list" aria-label={`Lines of ${file.path}`}>
          {lines.map((segments, i) => {
            const n = i + 1;
            const isSelected = range !== null && n >= range.start && n <= range.end;
            const here = byLine.get(n) ?? [];
            return (
              <div key={n} role="listitem" className="group/line" data-testid="code-line" data-line={n}>
                <div className={`${ROW} ${isSelected ? 'bg-warn-bg' : ''}`} data-testid="code-row">
                  <span className={`${GUTTER} ${isSelected ? 'bg-warn-bg' : 'bg-code-bg'}`}>
                    {canComment && (
                      <button
                        type="button"
                        className={`${ADD} ${isSelected ? 'opacity-100' : 'opacity-0'}`}
                        onClick={(e) => onLine(n, e.shiftKey)}
                        aria-label={`Comment on line ${n}`}
                        title="Comment on this line (shift-click to extend)"
                        data-testid="line-comment"
                      >
                        <PlusIcon />
                      </button>
                    )}
                    <span className="ml-auto leading-[20px]" data-testid="line-number" aria-hidden="true">
                      {n}
                    </span>
                  </span>
                  <code className={TEXT} data-testid="line-text">
                    {segments.map((s, j) =>
                      s.className ? (
                        <span key={j} className={s.className}>
                          {s.text}
                        </span>
                      ) : (
                        s.text
                      ),
                    )}
                  </code>
                </div>
                {isSelected && range.end === n && (
                  <form className={`${UNDER_LINE} comment-form`} onSubmit={(e) => void submit(e)}>
                    <label>
                      <span className="sr-only">
                        Comment on lines {range.start}–{range.end}
                      </span>
                      <textarea
                        value={draft}
                        onChange={(e) => setDraft(e.target.value)}
                        rows={3}
                        autoFocus
                        placeholder={`Comment on line${range.start === range.end ? ` ${n}` : `s ${range.start}–${range.end}`} (markdown)`}
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
                {here.length > 0 && (
                  <div className={`${UNDER_LINE} flex flex-col gap-1.5`}>
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
                  </div>
                )}
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
