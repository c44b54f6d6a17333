'use client';

import type { ContentPart } from '@yoke/protocol';
import { createContext, useContext, useRef, useState } from 'react';
import { useCollabContext } from '@/components/collab/collab-context';
import type { ItemOf } from '@/components/session/items/item-types';
import { AgentMessage } from '@/components/session/items/message-items';
import { describeError } from '@/lib/api';
import { getSession } from '@/lib/collab-api';
import { undeliveredNote } from '@/lib/delivery';
import { newIdempotencyKey } from '@/lib/ids';
import { resendPrompt } from '@/lib/retry-turn';
import { describeTurnFailure } from '@/lib/turn-failure';

/** What each turn was asked (lib/turn-failure `promptOfTurn`), for Retry; the timeline provides it. */
export const TurnPromptContext = createContext<(turnId: string) => ContentPart[] | null>(() => null);

/**
 * A failed turn: a sentence a person understands, the runner's own words behind a disclosure, and Retry for whoever
 * may drive the session, which sends the turn's prompt again as a new message.
 */
export function TurnFailed({ item }: { item: ItemOf<'turn_failed'> }) {
  const { kind, sentence } = describeTurnFailure(item.error);
  return (
    <div className="banner banner-error turn-failed" role="alert" data-testid="turn-failed" data-kind={kind}>
      <p className="turn-failed-sentence" data-testid="turn-failed-sentence">
        {sentence}
      </p>
      <details className="turn-failed-detail">
        <summary>Details</summary>
        <pre className="code" data-testid="turn-failed-detail">
          {item.error}
        </pre>
      </details>
      {item.turnId && <RetryTurn sessionId={item.sessionId} turnId={item.turnId} />}
    </div>
  );
}

function RetryTurn({ sessionId, turnId }: { sessionId: string; turnId: string }) {
  const ctx = useCollabContext();
  const prompt = useContext(TurnPromptContext)(turnId);
  const [isSending, setIsSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  // One key per retry, kept when the send fails, so trying again cannot send the prompt twice.
  const keyRef = useRef<string | null>(null);
  if (!ctx?.access?.canDrive || !prompt) return null;

  const retry = async () => {
    keyRef.current ??= newIdempotencyKey();
    setIsSending(true);
    setError(null);
    try {
      const accepted = await resendPrompt(sessionId, prompt, keyRef.current);
      keyRef.current = null;
      setNote(
        accepted?.delivered === false
          ? undeliveredNote(await getSession(sessionId).catch(() => null))
          : 'Sent again as a new message.',
      );
    } catch (err) {
      setError(describeError(err));
    } finally {
      setIsSending(false);
    }
  };

  return (
    <div className="turn-failed-actions">
      {note === null && (
        <button
          type="button"
          className="secondary"
          onClick={() => void retry()}
          disabled={isSending}
          data-testid="retry-turn"
        >
          {isSending ? 'Sending…' : 'Retry'}
        </button>
      )}
      {note && (
        <span className="small" role="status" data-testid="retry-note">
          {note}
        </span>
      )}
      {error && (
        <span className="small turn-failed-retry-error" role="alert" data-testid="retry-error">
          {error}
        </span>
      )}
    </div>
  );
}

/** An agent message the turn's failure cut off: what had streamed, shown like any answer, and marked. */
export function PartialAgentMessage({ item }: { item: ItemOf<'agent_message'> }) {
  return (
    <div className="partial-answer" data-testid="partial-answer">
      <AgentMessage item={item} />
      <p className="quiet-line partial-answer-mark" data-testid="partial-mark">
        Incomplete: the turn failed here
      </p>
    </div>
  );
}
