'use client';

import type { Session } from '@yoke/protocol';
import { useState } from 'react';
import { describeError, setArchived } from '@/lib/api';

/**
 * The owner's Archive (or, once archived, Restore). Archiving waits for the session to rest: while a turn runs or waits
 * the button says why it is off. The header follows the session's live copy, so every viewer sees the change.
 */
export function ArchiveButton({ session }: { session: Session }) {
  const [isBusy, setIsBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isArchived = session.status === 'archived';
  const rests = isArchived || session.status === 'idle' || session.status === 'failed';

  const toggle = async () => {
    setIsBusy(true);
    setError(null);
    try {
      await setArchived(session.id, !isArchived);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setIsBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        className="secondary"
        disabled={isBusy || !rests}
        title={
          rests
            ? isArchived
              ? 'Bring the session back to the list; it takes prompts again'
              : 'Hide the session from the list; its history stays readable'
            : 'A session can be archived once its turn has ended'
        }
        onClick={() => void toggle()}
        data-testid="archive-button"
      >
        {isArchived ? 'Restore' : 'Archive'}
      </button>
      {error && (
        <span className="small status-reason" role="alert" data-testid="archive-error">
          {error}
        </span>
      )}
    </>
  );
}
