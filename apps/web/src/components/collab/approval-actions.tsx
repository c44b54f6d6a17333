'use client';

import { Approval, APPROVE_SESSION, type HumanDecision } from '@yoke/protocol';
import Link from 'next/link';
import { useState } from 'react';
import { useCollabContext } from '@/components/collab/collab-context';
import { ApiError, describeError } from '@/lib/api';
import { decideApproval, listSessionApprovals } from '@/lib/collab-api';

/**
 * Approve / deny on an approval card: the current status (kept live by `approval.updated`), the buttons for whoever
 * may answer (the owner, or someone they delegated to), and who decided once it is settled. Where the request offers
 * it (its policies allow it), a third button approves the same action for the rest of the session. The first decision
 * wins; a late one is told who was first.
 */
export function ApprovalActions({
  sessionId,
  approvalId,
  options,
}: {
  sessionId: string;
  approvalId: string;
  /** What the request offers (its `options`), for a request newer than the approvals this page loaded. */
  options?: readonly string[];
}) {
  const ctx = useCollabContext();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!ctx) return null;
  const approval = ctx.approvals.find((a) => a.approvalId === approvalId) ?? null;
  const status = approval?.status ?? 'pending';
  const canApprove = ctx.access?.canApprove ?? false;
  const canApproveForSession = (approval?.options ?? options ?? []).includes(APPROVE_SESSION);

  const decide = async (decision: HumanDecision) => {
    setBusy(true);
    setError(null);
    try {
      const r = Approval.safeParse(await decideApproval(sessionId, approvalId, decision));
      if (r.success) ctx.approvalSettled(r.data);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'approval.already_decided' ? err.message : describeError(err));
      const fresh = await listSessionApprovals(sessionId).catch(() => []);
      for (const a of fresh) ctx.approvalSettled(a);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="approval-actions" data-testid="approval-status" data-status={status}>
      {status === 'pending' ? (
        canApprove ? (
          <div className="form-row">
            <button type="button" onClick={() => void decide('approve')} disabled={busy} data-testid="approval-approve">
              Approve
            </button>
            {canApproveForSession && (
              <button
                type="button"
                onClick={() => void decide(APPROVE_SESSION)}
                disabled={busy}
                title="Approve this, and the same action again in this session without asking"
                data-testid="approval-approve-session"
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
