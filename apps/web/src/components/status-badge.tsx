import type { SessionStatus } from '@yoke/protocol';
import { STATUS_LABEL } from '@/lib/format';

export function StatusBadge({ status }: { status: SessionStatus }) {
  return (
    <span className={`badge status-${status}`} data-testid="session-status" data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}

export function RunnerBadge({ isOnline }: { isOnline: boolean }) {
  return (
    <span
      className={`runner ${isOnline ? 'runner-online' : 'runner-offline'}`}
      data-testid="runner-state"
      data-online={isOnline}
    >
      <span className="dot" aria-hidden="true" />
      {isOnline ? 'runner online' : 'runner offline'}
    </span>
  );
}
