'use client';

import Link from 'next/link';
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { CollabContext, type CollabContextValue } from '@/components/collab/collab-context';
import { FilesPanel } from '@/components/collab/files-panel';
import { PresenceBar } from '@/components/collab/presence-bar';
import { ShareDialog } from '@/components/collab/share-dialog';
import { ForkDialog } from '@/components/files/fork-dialog';
import { ArchiveButton } from '@/components/session/archive-button';
import { Composer } from '@/components/session/composer';
import { QueuedPrompts } from '@/components/session/queued-prompts';
import { SessionHeader } from '@/components/session/session-header';
import { Timeline } from '@/components/session/timeline';
import { useCollab } from '@/hooks/use-collab';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useSessionStream } from '@/hooks/use-session-stream';
import { describeError } from '@/lib/api';
import { addComment } from '@/lib/collab-api';
import type { FeedPhase } from '@yoke/client';

// The resizable split (react-resizable-panels, about 27 kB compressed, which the bundler cannot trim to the parts used)
// comes in its own file: the page's own scripts start without it, and it downloads while the session joins.
const SessionLayout = lazy(() =>
  import('@/components/session/session-layout').then((m) => ({ default: m.SessionLayout })),
);

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

/** The live view of one session. Mount with `key={sessionId}`. */
export function SessionView({ sessionId }: { sessionId: string }) {
  const { session, timeline, phase, historyError, feed } = useSessionStream(sessionId);
  const collab = useCollab(sessionId, () => feed.rejoin());
  const forkRef = useRef<HTMLDialogElement>(null);
  const itemCommentRef = useRef<HTMLDialogElement>(null);
  const [forkSeq, setForkSeq] = useState<number | null>(null);
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
            {access?.role === 'owner' && session && <ArchiveButton session={session} />}
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
          <Suspense fallback={null}>
            <SessionLayout
              conversation={
                <div className="session-main">
                  <Timeline timeline={timeline} isLoading={phase.phase === 'joining' && !session} sentKey={sentKey} />
                  <QueuedPrompts sessionId={sessionId} session={session} canDrive={access?.canDrive ?? false} />
                  <Composer
                    sessionId={sessionId}
                    onSend={() => setSentKey((k) => k + 1)}
                    status={session?.status ?? null}
                    runner={session}
                    access={access}
                    onTyping={access?.canDrive ? collab.notifyTyping : undefined}
                  />
                </div>
              }
              files={
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
              }
            />
          </Suspense>
        )}
        <ForkDialog dialogRef={forkRef} sessionId={sessionId} session={session} seq={forkSeq} />
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
