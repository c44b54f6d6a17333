'use client';

import type { Session, SessionAccess, SessionStatus } from '@yoke/protocol';
import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { cancelSession, describeError, sendMessage } from '@/lib/api';
import { revokedRunnerNote } from '@/lib/delivery';
import { newIdempotencyKey } from '@/lib/ids';

const CANCELLABLE: ReadonlySet<SessionStatus> = new Set(['running', 'waiting_approval']);

/**
 * Message box: Send posts a message (one idempotency key per message, reused on retry); Cancel stops a turn. A prompt
 * the runner cannot take now shows in the timeline as queued (QueuedPrompts). When the session's runner was revoked,
 * Send is off and the box says why before anything is typed: such a prompt could never be delivered.
 */
export function Composer({
  sessionId,
  status,
  runner = null,
  access,
  onTyping,
  onSend,
}: {
  sessionId: string;
  status: SessionStatus | null;
  /** The session's runner as the session reports it (null while it loads). */
  runner?: Pick<Session, 'runnerName' | 'runnerRevoked'> | null;
  /** The caller's role; null while it loads (sending stays possible: the server decides). */
  access?: SessionAccess | null;
  onTyping?: () => void;
  /** Called as a message is sent (the view follows the bottom again). */
  onSend?: () => void;
}) {
  const [text, setText] = useState('');
  const [isSending, setIsSending] = useState(false);
  const [isCancelling, setIsCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const keyRef = useRef<string | null>(null);
  const isArchived = status === 'archived';
  const isReadOnly = access ? !access.canDrive : false;
  const revokedNote = revokedRunnerNote(runner);
  const canSend =
    status !== null && !isArchived && !isReadOnly && revokedNote === null && !isSending && text.trim().length > 0;

  const send = async () => {
    if (!canSend) return;
    keyRef.current ??= newIdempotencyKey();
    setIsSending(true);
    setError(null);
    onSend?.();
    try {
      await sendMessage(sessionId, text, keyRef.current);
      keyRef.current = null;
      setText('');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setIsSending(false);
    }
  };

  const cancel = async () => {
    setIsCancelling(true);
    setError(null);
    try {
      await cancelSession(sessionId);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setIsCancelling(false);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void send();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer" onSubmit={onSubmit} data-read-only={isReadOnly}>
      {isReadOnly && access && (
        <p className="banner" id="composer-read-only" data-testid="composer-read-only">
          You are a {access.role} in this session: only its owner and drivers can send prompts. Ask the owner for driver
          access.
        </p>
      )}
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {revokedNote && !isReadOnly && !isArchived && (
        <p className="banner banner-error" id="composer-runner-revoked" data-testid="composer-runner-revoked">
          {revokedNote}
        </p>
      )}
      <div className="composer-row">
        <label className="grow">
          <span className="sr-only">Message</span>
          <textarea
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              keyRef.current = null;
              onTyping?.();
            }}
            onKeyDown={onKeyDown}
            placeholder={
              isArchived
                ? 'This session is archived.'
                : isReadOnly
                  ? 'Read only: you cannot send prompts here.'
                  : 'Message the agent (Ctrl+Enter to send)'
            }
            disabled={isArchived || isReadOnly}
            aria-describedby={
              isReadOnly ? 'composer-read-only' : revokedNote && !isArchived ? 'composer-runner-revoked' : undefined
            }
            rows={3}
            data-testid="composer-input"
          />
        </label>
        <div className="composer-actions">
          <button
            type="submit"
            disabled={!canSend}
            aria-describedby={revokedNote && !isReadOnly && !isArchived ? 'composer-runner-revoked' : undefined}
            data-testid="composer-send"
          >
            {isSending ? 'Sending…' : 'Send'}
          </button>
          {status !== null && CANCELLABLE.has(status) && !isReadOnly && (
            <button
              type="button"
              className="danger"
              onClick={() => void cancel()}
              disabled={isCancelling}
              data-testid="cancel-button"
            >
              {isCancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
        </div>
      </div>
    </form>
  );
}
