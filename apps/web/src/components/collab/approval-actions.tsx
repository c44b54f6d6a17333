'use client';

import { Approval, APPROVE_SESSION, type HumanDecision } from '@yoke/protocol';
import Link from 'next/link';
import { useState } from 'react';
import { useCollabContext } from '@/components/collab/collab-context';
import { useToast } from '@/components/shell/toast';
import { DECISION_KEYS, useOldestApprovalKeys } from '@/hooks/use-decision-keys';
import { useNow } from '@/hooks/use-now';
import { ApiError, describeError } from '@/lib/api';
import { decideApproval, listSessionApprovals } from '@/lib/collab-api';
import { formatDateTime, formatWaited } from '@/lib/format';

/** What a decision reads as once made, shown briefly and read out by screen readers. */
export const DECIDED_NOTE: Record<HumanDecision, string> = {
  approve: 'Approved.',
  approve_session: 'Approved for the rest of the session.',
  deny: 'Denied.',
};

/**
 * Approve / deny on an approval card: the current status (kept live by `approval.updated`), how long it has waited,
 * the buttons for whoever may answer (the owner, or someone they delegated to), and who decided once it is settled.
 * Where the request offers it (its policies allow it), a third button approves the same action for the rest of the
 * session. The first decision wins; a late one is told who was first. On the page, a, s and d decide the oldest
 * approval the viewer may decide (its buttons show the keys).
 */
export function ApprovalActions({
  sessionId,
  approvalId,
  options,
  askedAt,
}: {
  sessionId: string;
  approvalId: string;
  /** What the request offers (its `options`), for a request newer than the approvals this page loaded. */
  options?: readonly string[];
  /** When the request was made (its item's time), for a request newer than the approvals this page loaded. */
  askedAt?: string;
}) {
  const ctx = useCollabContext();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(10_000);
  const approval = ctx?.approvals.find((a) => a.approvalId === approvalId) ?? null;
  const status = approval?.status ?? 'pending';
  const canApprove = ctx?.access?.canApprove ?? false;
  const offered = approval?.options ?? options ?? [];
  const canApproveForSession = offered.includes(APPROVE_SESSION);
  const since = approval?.createdAt ?? askedAt ?? null;

  const decide = async (decision: HumanDecision) => {
    if (!ctx || busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = Approval.safeParse(await decideApproval(sessionId, approvalId, decision));
      if (r.success) ctx.approvalSettled(r.data);
      toast({ kind: 'success', text: DECIDED_NOTE[decision] });
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'approval.already_decided' ? err.message : describeError(err));
      const fresh = await listSessionApprovals(sessionId).catch(() => []);
      for (const a of fresh) ctx.approvalSettled(a);
    } finally {
      setBusy(false);
    }
  };

  const isDecidable = ctx !== null && status === 'pending' && canApprove;
  const hasKeys = useOldestApprovalKeys(
    isDecidable ? { approvalId, askedAt: since ?? '', options: offered } : null,
    (decision) => void decide(decision),
  );
  if (!ctx) return null;
  const key = (decision: HumanDecision) =>
    hasKeys ? { 'data-key': DECISION_KEYS[decision], 'aria-keyshortcuts': DECISION_KEYS[decision] } : {};

  return (
    <div className="approval-actions" data-testid="approval-status" data-status={status}>
      {status === 'pending' && since && (
        <div className="muted small" title={`Asked ${formatDateTime(since)}`} data-testid="approval-waiting">
          waiting {formatWaited(now - Date.parse(since))}
        </div>
      )}
      {status === 'pending' ? (
        canApprove ? (
          <div className={`form-row${hasKeys ? ' decision-keys' : ''}`} data-keys={hasKeys ? 'on' : 'off'}>
            <button
              type="button"
              onClick={() => void decide('approve')}
              disabled={busy}
              data-testid="approval-approve"
              {...key('approve')}
            >
              Approve
            </button>
            {canApproveForSession && (
              <button
                type="button"
                onClick={() => void decide(APPROVE_SESSION)}
                disabled={busy}
                title="Approve this, and the same action again in this session without asking"
                data-testid="approval-approve-session"
                {...key(APPROVE_SESSION)}
              >
                Always allow in this session
              </button>
            )}
            <button
              type="button"
              className="danger"
              onClick={() => void decide('deny')}
              disabled={busy}
              data-testid="approval-deny"
              {...key('deny')}
            >
              Deny
            </button>
          </div>
        ) : (
          <span className="muted small">Waiting for the session owner to decide.</span>
        )
      ) : (
        <span className="small">
          <strong>{status.replace('_', ' ')}</strong>
          {approval?.decidedBy ? ` by ${approval.decidedBy.name}` : ''}
        </span>
      )}
      {status === 'pending' && (
        <Link
          className="small"
          href={`/approvals/?session=${encodeURIComponent(sessionId)}&approval=${encodeURIComponent(approvalId)}`}
        >
          Link to this approval
        </Link>
      )}
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
