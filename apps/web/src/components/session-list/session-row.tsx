import type { Session } from '@yoke/protocol';
import Link from 'next/link';
import { RunnerBadge, StatusBadge } from '@/components/status-badge';
import { formatCost, formatDateTime, formatRelative } from '@/lib/format';

/**
 * A session as a card: title and chips on the left, cost and time on the right; on a narrow screen the cost and time
 * move under the chips, on one line.
 */
const LINK =
  'grid grid-cols-[1fr_auto] gap-x-3 gap-y-1 rounded-lg border border-border bg-surface px-3.5 py-3 text-inherit no-underline hover:border-accent max-[600px]:grid-cols-1';
const SIDE =
  'col-start-2 row-span-2 row-start-1 flex flex-col items-end justify-center text-sm max-[600px]:col-start-1 max-[600px]:row-span-1 max-[600px]:row-start-3 max-[600px]:flex-row max-[600px]:items-center max-[600px]:justify-between';

export function sessionHref(id: string): string {
  return `/session/?id=${encodeURIComponent(id)}`;
}

export function SessionRow({ session, now }: { session: Session; now: number }) {
  return (
    <li className="session-row" data-testid="session-row" data-session-id={session.id} data-status={session.status}>
      <Link href={sessionHref(session.id)} className={LINK}>
        <span className="col-start-1 row-start-1 overflow-hidden font-semibold text-ellipsis whitespace-nowrap">
          {session.title || 'Untitled session'}
        </span>
        <span className="col-start-1 row-start-2 flex min-w-0 flex-wrap items-center gap-1.5">
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
        <span className={SIDE}>
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
