'use client';

import type { Comment, SessionAccess, WorkspaceFile, WorkspaceListing } from '@yoke/protocol';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { CommentThread } from '@/components/collab/comment-thread';
import { FileTree } from '@/components/files/file-tree';
import { FileViewer, type LineRange } from '@/components/files/file-viewer';
import { describeError } from '@/lib/api';
import { addComment, listFiles, readFile } from '@/lib/collab-api';
import { openThreadsByPath, threadsOf } from '@/lib/comments';

/**
 * The session workspace (served by its runner): browse folders, open a file (highlighted, with line numbers),
 * comment on a line range with the "+" beside a line (shift-click extends), and see each line's threads under it,
 * live. The open folder and file are read again whenever the agent may have changed files.
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
  /** Changes whenever the agent may have changed files: the listing and the open file are read again. */
  changeKey: number;
  onCommentChange(c: Comment): void;
}) {
  const [dir, setDir] = useState('');
  const [listing, setListing] = useState<WorkspaceListing | null>(null);
  const [file, setFile] = useState<WorkspaceFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canComment = access?.canComment ?? false;
  /** Only the latest read of each kind is shown: a slow earlier reply never replaces a newer one. */
  const reads = useRef({ list: 0, file: 0 });
  const openPath = file?.path ?? null;

  const load = useCallback(async () => {
    const n = ++reads.current.list;
    try {
      const next = await listFiles(sessionId, dir);
      if (n !== reads.current.list) return;
      setListing(next);
      setError(null);
    } catch (err) {
      if (n === reads.current.list) setError(describeError(err));
    }
  }, [sessionId, dir]);

  const open = useCallback(
    async (path: string) => {
      const n = ++reads.current.file;
      try {
        const next = await readFile(sessionId, path);
        if (n !== reads.current.file) return;
        setFile(next);
        setError(null);
      } catch (err) {
        if (n === reads.current.file) setError(describeError(err));
      }
    },
    [sessionId],
  );

  useEffect(() => {
    void load();
  }, [load, changeKey]);

  // The open file follows the agent's edits too: read again on each workspace change (not when another is opened).
  useEffect(() => {
    if (openPath) void open(openPath);
  }, [changeKey]);

  const threads = useMemo(() => threadsOf(comments), [comments]);
  const countByPath = useMemo(() => openThreadsByPath(threads), [threads]);
  const fileThreads = useMemo(
    () => (openPath ? threads.filter((t) => t.root.anchor?.kind === 'file' && t.root.anchor.path === openPath) : []),
    [threads, openPath],
  );
  const otherThreads = threads.filter((t) => t.root.anchor?.kind !== 'file');

  const comment = async (range: LineRange, body: string): Promise<boolean> => {
    if (!file) return false;
    try {
      onCommentChange(
        await addComment(sessionId, {
          anchor: { kind: 'file', path: file.path, lineStart: range.start, lineEnd: range.end, seq: lastSeq },
          body,
        }),
      );
      return true;
    } catch (err) {
      setError(describeError(err));
      return false;
    }
  };

  return (
    <section className="flex min-w-0 flex-col gap-3" aria-label="Files and comments" data-testid="files-panel">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <FileTree
        dir={dir}
        listing={listing}
        openPath={openPath}
        countByPath={countByPath}
        onDir={setDir}
        onFile={(path) => void open(path)}
      />
      {file && (
        <FileViewer
          key={file.path}
          sessionId={sessionId}
          file={file}
          threads={fileThreads}
          canComment={canComment}
          onComment={comment}
          onCommentChange={onCommentChange}
        />
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
