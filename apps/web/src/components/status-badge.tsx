import type { SessionStatus } from '@yoke/protocol';
import { STATUS_LABEL } from '@/lib/format';

export function StatusBadge({ status }: { status: SessionStatus }) {
  return (
    <span className={`badge status-${status}`} data-testid="session-status" data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}

export function RunnerBadge({ isOnline, isRevoked = false }: { isOnline: boolean; isRevoked?: boolean }) {
  return (
    <span
      className={`runner ${isOnline && !isRevoked ? 'runner-online' : 'runner-offline'}`}
      data-testid="runner-state"
      data-online={isOnline && !isRevoked}
      data-revoked={isRevoked}
    >
      <span className="dot" aria-hidden="true" />
      {isRevoked ? 'runner revoked' : isOnline ? 'runner online' : 'runner offline'}
    </span>
  );
}
