'use client';

import { type ContentPart, QueueChangedEvent, type QueuedPrompt, type Session } from '@yoke/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSocket } from '@/components/socket-provider';
import { ApiError, describeError, listQueuedPrompts, withdrawQueuedPrompt } from '@/lib/api';
import { queuedReason } from '@/lib/delivery';

/**
 * The session's prompts its runner has not taken yet, at the end of the timeline: each as the sender's message, dashed,
 * with why it waits (the runner is offline, or revoked and it never will be) and, for whoever may drive, Cancel. They
 * come and go live for every viewer: queued, withdrawn by anyone, or delivered (its `user_message` item follows).
 */
export function QueuedPrompts({
  sessionId,
  session,
  canDrive,
}: {
  sessionId: string;
  session: Session | null;
  canDrive: boolean;
}) {
  const { prompts, remove, reload } = useQueuedPrompts(sessionId);
  const [pending, setPending] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const regionRef = useRef<HTMLDivElement>(null);

  const cancel = async (prompt: QueuedPrompt) => {
    setPending(prompt.id);
    setNotice(null);
    setErrors((e) => withoutKey(e, prompt.id));
    try {
      await withdrawQueuedPrompt(sessionId, prompt.id);
      remove(prompt.id);
      setNotice('Prompt cancelled: it will not be sent.');
    } catch (err) {
      if (err instanceof ApiError && err.code === 'input.already_delivered') {
        // The runner has it, or is taking it this moment: the list as the server holds it now says which.
        void reload();
        setNotice('Too late to cancel: the runner already has that prompt.');
      } else if (err instanceof ApiError && err.code === 'input.not_found') {
        remove(prompt.id);
        setNotice('That prompt was already cancelled.');
      } else {
        setErrors((e) => ({ ...e, [prompt.id]: describeError(err) }));
      }
    } finally {
      setPending(null);
      // The row under the keyboard is gone: focus stays in this region rather than falling to the page.
      regionRef.current?.focus();
    }
  };

  const reason = queuedReason(session);
  const isRevoked = session?.runnerRevoked === true;
  return (
    <div className="queued-prompts-region" ref={regionRef} tabIndex={-1}>
      {prompts.length > 0 && (
        <ol className="timeline queued-prompts" data-testid="queued-prompts" aria-label="Queued prompts">
          {prompts.map((prompt) => (
            <li key={prompt.id} className="item item-queued" data-testid="queued-prompt" data-queued-id={prompt.id}>
              <div className="item-body">
                <div className="bubble user queued">
                  <div className="bubble-author">{prompt.actor.name || 'You'}</div>
                  {prompt.content.map((part, i) => (
                    <Part key={i} part={part} />
                  ))}
                  <div className="queued-foot">
                    <p className="queued-reason" data-testid="queued-reason" data-revoked={isRevoked}>
                      {reason}
                    </p>
                    {canDrive && (
                      <button
                        type="button"
                        className="secondary small"
                        onClick={() => void cancel(prompt)}
                        disabled={pending === prompt.id}
                        aria-label={`Cancel the queued prompt “${preview(prompt.text)}”`}
                        data-testid="queued-cancel"
                      >
                        {pending === prompt.id ? 'Cancelling…' : 'Cancel'}
                      </button>
                    )}
                  </div>
                  {errors[prompt.id] && (
                    <p className="banner banner-error" role="alert">
                      {errors[prompt.id]}
                    </p>
                  )}
                </div>
              </div>
            </li>
          ))}
        </ol>
      )}
      <p className="sr-only" role="status" data-testid="queued-notice">
        {notice}
      </p>
    </div>
  );
}

function Part({ part }: { part: ContentPart }) {
  if (part.type === 'text') return <p className="user-text">{part.text}</p>;
  return (
    <p className="file-part">
      <span className="chip">file</span> <code>{part.path}</code>
    </p>
  );
}

function withoutKey(errors: Record<string, string>, id: string): Record<string, string> {
  const next = { ...errors };
  delete next[id];
  return next;
}

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/**
 * The queued prompts of one session: read once (and again on reconnect, when events may have been missed), then kept
 * by `session.queue_changed`. A prompt seen leaving stays gone even if an older read still lists it.
 */
function useQueuedPrompts(sessionId: string) {
  const { socket } = useSocket();
  const [prompts, setPrompts] = useState<QueuedPrompt[]>([]);
  const gone = useRef(new Set<string>());

  const remove = useCallback((id: string) => {
    gone.current.add(id);
    setPrompts((list) => list.filter((p) => p.id !== id));
  }, []);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const { items } = await listQueuedPrompts(sessionId, signal);
        setPrompts(items.filter((p) => !gone.current.has(p.id)));
      } catch {
        // Not allowed or not reachable: the timeline and its banners say so; nothing queued is shown.
      }
    },
    [sessionId],
  );

  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  useEffect(() => {
    if (!socket) return;
    const onChange = (raw: unknown) => {
      const e = QueueChangedEvent.safeParse(raw);
      if (!e.success || e.data.sessionId !== sessionId) return;
      const change = e.data;
      if (change.change === 'queued') {
        if (gone.current.has(change.prompt.id)) return;
        setPrompts((list) => (list.some((p) => p.id === change.prompt.id) ? list : [...list, change.prompt]));
      } else remove(change.id);
    };
    const onConnect = () => void load();
    socket.on('session.queue_changed', onChange);
    socket.on('connect', onConnect);
    return () => {
      socket.off('session.queue_changed', onChange);
      socket.off('connect', onConnect);
    };
  }, [socket, sessionId, load, remove]);

  return { prompts, remove, reload: load };
}
