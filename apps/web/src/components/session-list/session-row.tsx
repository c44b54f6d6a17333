import type { Session } from '@yoke/protocol';
import Link from 'next/link';
import { RunnerBadge, StatusBadge } from '@/components/status-badge';
import { formatCost, formatDateTime, formatRelative } from '@/lib/format';

export function sessionHref(id: string): string {
  return `/session/?id=${encodeURIComponent(id)}`;
}

export function SessionRow({ session, now }: { session: Session; now: number }) {
  return (
    <li className="session-row" data-testid="session-row" data-session-id={session.id} data-status={session.status}>
      <Link href={sessionHref(session.id)} className="session-link">
        <span className="session-title">{session.title || 'Untitled session'}</span>
        <span className="session-meta">
          <StatusBadge status={session.status} />
          <span className="chip" title="Harness">
            {session.harness}
          </span>
          {session.model && (
            <span className="chip" title="Model">
              {session.model}
            </span>
          )}
          <RunnerBadge isOnline={session.runnerOnline} />
        </span>
        <span className="session-side">
          <span className="cost" title="Total cost">
            {formatCost(session.costUsd)}
          </span>
          <time dateTime={session.updatedAt} title={formatDateTime(session.updatedAt)} className="muted">
            {formatRelative(session.updatedAt, now)}
          </time>
        </span>
      </Link>
    </li>
  );
}
