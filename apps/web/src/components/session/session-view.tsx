'use client';

import Link from 'next/link';
import { Composer } from '@/components/session/composer';
import { SessionHeader } from '@/components/session/session-header';
import { Timeline } from '@/components/session/timeline';
import { useSessionStream } from '@/hooks/use-session-stream';
import type { FeedPhase } from '@/lib/session-feed';

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
  const { session, timeline, phase, historyError } = useSessionStream(sessionId);
  const isRefused = phase.phase === 'refused';

  return (
    <div className="page session-page" data-session-id={sessionId} data-phase={phase.phase}>
      <SessionHeader session={session} />
      <PhaseBanner phase={phase} />
      {historyError && (
        <div className="banner banner-error" role="alert">
          {historyError}
        </div>
      )}
      {!isRefused && <Timeline timeline={timeline} isLoading={phase.phase === 'joining' && !session} />}
      {!isRefused && <Composer sessionId={sessionId} status={session?.status ?? null} />}
    </div>
  );
}
