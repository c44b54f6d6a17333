'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { CollabContext, type CollabContextValue } from '@/components/collab/collab-context';
import { FilesPanel } from '@/components/collab/files-panel';
import { PresenceBar } from '@/components/collab/presence-bar';
import { ShareDialog } from '@/components/collab/share-dialog';
import { Composer } from '@/components/session/composer';
import { SessionHeader } from '@/components/session/session-header';
import { Timeline } from '@/components/session/timeline';
import { useCollab } from '@/hooks/use-collab';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useSessionStream } from '@/hooks/use-session-stream';
import { describeError } from '@/lib/api';
import { addComment, forkSession } from '@/lib/collab-api';
import type { FeedPhase } from '@yoke/client';

function PhaseBanner({ phase }: { phase: FeedPhase }) {
  switch (phase.phase) {
    case 'joining':
    case 'live':
    case 'offline':
      return null;
    case 'refused':
      return (
        <div className="banner banner-error" role="alert" data-testid="join-error" data-code={phase.error.code}>
          {phase.error.code === 'session.not_found'
            ? 'This session does not exist or is not visible to you.'
            : phase.error.message}{' '}
          <Link href="/">Back to sessions</Link>
        </div>
      );
    case 'error':
      return (
        <div className="banner banner-error" role="alert" data-testid="join-error">
          {phase.message}
        </div>
      );
  }
}

const FORK_HARNESSES = ['yoke', 'claude-code', 'codex', 'pi', 'claude-sdk', 'openai-agents'] as const;

/** The live view of one session. Mount with `key={sessionId}`. */
export function SessionView({ sessionId }: { sessionId: string }) {
  const { session, timeline, phase, historyError, feed } = useSessionStream(sessionId);
  const collab = useCollab(sessionId, () => feed.rejoin());
  const router = useRouter();
  const forkRef = useRef<HTMLDialogElement>(null);
  const itemCommentRef = useRef<HTMLDialogElement>(null);
  const [forkSeq, setForkSeq] = useState<number | null>(null);
  const [forkModel, setForkModel] = useState('');
  const [forkHarness, setForkHarness] = useState('');
  const [itemSeq, setItemSeq] = useState<number | null>(null);
  const [itemText, setItemText] = useState('');
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [sentKey, setSentKey] = useState(0);
  useDocumentTitle(session ? session.title || 'Untitled session' : 'Session');
  const access = collab.access.state === 'ok' ? collab.access.access : null;
  const ended = collab.access.state === 'ended' ? collab.access.message : null;
  const isRefused = phase.phase === 'refused' || ended !== null;
  const changeKey = useMemo(
    () => timeline.items.filter((i) => i.type === 'file_change' || i.type === 'tool_result').length,
    [timeline.items],
  );
  useEffect(() => {
    if (ended !== null) feed.close();
  }, [ended, feed]);

  const ctx = useMemo<CollabContextValue>(
    () => ({
      sessionId,
      access,
      approvals: collab.approvals,
      comments: collab.comments,
      approvalSettled: collab.approvalSettled,
      fork: (seq) => {
        setForkSeq(seq);
        setDialogError(null);
        forkRef.current?.showModal();
      },
      commentOnItem: (seq) => {
        setItemSeq(seq);
        setDialogError(null);
        itemCommentRef.current?.showModal();
      },
    }),
    [sessionId, access, collab.approvals, collab.comments, collab.approvalSettled],
  );

  const submitFork = async (e: FormEvent) => {
    e.preventDefault();
    if (forkSeq === null) return;
    try {
      const fork = await forkSession(sessionId, {
        seq: forkSeq,
        ...(forkModel.trim() ? { model: forkModel.trim() } : {}),
      });
      forkRef.current?.close();
      router.push(`/session/?id=${fork.id}`);
    } catch (err) {
      setDialogError(describeError(err));
    }
  };

  const submitItemComment = async (e: FormEvent) => {
    e.preventDefault();
    if (itemSeq === null || !itemText.trim()) return;
    try {
      collab.commentChanged(await addComment(sessionId, { anchor: { kind: 'item', seq: itemSeq }, body: itemText }));
      setItemText('');
      itemCommentRef.current?.close();
    } catch (err) {
      setDialogError(describeError(err));
    }
  };

  return (
    <CollabContext.Provider value={ctx}>
      <div
        className="page session-page"
        data-session-id={sessionId}
        data-phase={ended ? 'ended' : phase.phase}
        data-role={access?.role ?? ''}
      >
        <SessionHeader session={session}>
          <div className="session-collab">
            <PresenceBar viewers={collab.viewers} typingNames={collab.typingNames} />
            {access && (
              <span className="chip" data-testid="my-role" title="Your role in this session">
                {access.role}
              </span>
            )}
            {access?.canShare && session && <ShareDialog sessionId={sessionId} ownerId={session.ownerId} />}
          </div>
        </SessionHeader>
        {ended ? (
          <div className="banner banner-error" role="alert" data-testid="access-ended">
            {ended} This live view is closed. <Link href="/">Back to sessions</Link>
          </div>
        ) : (
          <PhaseBanner phase={phase} />
        )}
        {historyError && !ended && (
          <div className="banner banner-error" role="alert">
            {historyError}
          </div>
        )}
        {!isRefused && (
          <div className="session-layout">
            <div className="session-main">
              <Timeline timeline={timeline} isLoading={phase.phase === 'joining' && !session} sentKey={sentKey} />
              <Composer
                sessionId={sessionId}
                onSend={() => setSentKey((k) => k + 1)}
                status={session?.status ?? null}
                access={access}
                onTyping={access?.canDrive ? collab.notifyTyping : undefined}
              />
            </div>
            <details className="collab-side" open>
              <summary>Files and comments</summary>
              <FilesPanel
                sessionId={sessionId}
                access={access}
                comments={collab.comments}
                lastSeq={feed.lastSeq}
                changeKey={changeKey}
                onCommentChange={collab.commentChanged}
              />
            </details>
          </div>
        )}
        <dialog ref={forkRef} className="dialog" aria-labelledby="fork-title" data-testid="fork-dialog">
          <form onSubmit={(e) => void submitFork(e)}>
            <h2 id="fork-title">Fork at item #{forkSeq}</h2>
            <p className="muted small">
              A new session of yours with this history up to here, on your runner. The original stays as it is.
            </p>
            <label className="field">
              <span>Harness</span>
              <select value={forkHarness} onChange={(e) => setForkHarness(e.target.value)} data-testid="fork-harness">
                <option value="">Same as the original ({session?.harness ?? '…'})</option>
                {FORK_HARNESSES.map((h) => (
                  <option key={h}>{h}</option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Model (optional)</span>
              <input
                value={forkModel}
                onChange={(e) => setForkModel(e.target.value)}
                placeholder={session?.model ?? 'same model'}
                data-testid="fork-model"
              />
            </label>
            {dialogError && (
              <p className="banner banner-error" role="alert">
                {dialogError}
              </p>
            )}
            <div className="form-row">
              <button type="submit" data-testid="fork-submit">
                Fork
              </button>
              <button type="button" className="secondary" onClick={() => forkRef.current?.close()}>
                Cancel
              </button>
            </div>
          </form>
        </dialog>
        <dialog ref={itemCommentRef} className="dialog" aria-labelledby="item-comment-title">
          <form onSubmit={(e) => void submitItemComment(e)}>
            <h2 id="item-comment-title">Comment on item #{itemSeq}</h2>
            <label>
              <span className="sr-only">Comment</span>
              <textarea
                value={itemText}
                onChange={(e) => setItemText(e.target.value)}
                rows={3}
                data-testid="item-comment-input"
              />
            </label>
            {dialogError && (
              <p className="banner banner-error" role="alert">
                {dialogError}
              </p>
            )}
            <div className="form-row">
              <button type="submit" disabled={!itemText.trim()} data-testid="item-comment-submit">
                Comment
              </button>
              <button type="button" className="secondary" onClick={() => itemCommentRef.current?.close()}>
                Cancel
              </button>
            </div>
          </form>
        </dialog>
      </div>
    </CollabContext.Provider>
  );
}
