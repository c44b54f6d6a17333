import type { Session } from '@yoke/protocol';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { RunnerBadge, StatusBadge } from '@/components/status-badge';
import { formatCost, formatTokens } from '@/lib/format';
import { describeTurnFailure } from '@/lib/turn-failure';

export function SessionHeader({ session, children }: { session: Session | null; children?: ReactNode }) {
  return (
    <header className="session-header">
      <Link href="/" className="back">
        ← Sessions
      </Link>
      <h1 className="session-heading" data-testid="session-title">
        {session ? session.title || 'Untitled session' : 'Loading…'}
      </h1>
      {session && (
        <div className="session-meta">
          <StatusBadge status={session.status} />
          {(!session.runnerOnline || session.runnerRevoked) && (
            <RunnerBadge isOnline={false} isRevoked={session.runnerRevoked} />
          )}
          <span className="chip" title="Harness" data-testid="session-harness">
            {session.harness}
          </span>
          <span className="chip" title="Model" data-testid="session-model">
            {session.model ?? 'default model'}
          </span>
          <span className="cost" title="Total cost" data-testid="session-cost">
            {formatCost(session.costUsd)}
          </span>
          <span className="muted small" title="Input / output tokens">
            {formatTokens(session.inputTokens)} in · {formatTokens(session.outputTokens)} out
          </span>
        </div>
      )}
      {session?.forkedFrom && (
        <p className="muted small" data-testid="forked-from">
          Forked from <Link href={`/session/?id=${session.forkedFrom.sessionId}`}>the original session</Link> at item #
          {session.forkedFrom.seq}
        </p>
      )}
      {children}
      {session?.statusReason &&
        (session.status === 'failed' ? (
          // A failed turn's raw error is its detail (in the conversation); the header says it in a sentence.
          <p className="muted small status-reason" title={session.statusReason}>
            {describeTurnFailure(session.statusReason).sentence}
          </p>
        ) : (
          <p className="muted small status-reason">{session.statusReason}</p>
        ))}
    </header>
  );
}
