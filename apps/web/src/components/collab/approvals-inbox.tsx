'use client';

import { type Approval, APPROVE_SESSION, type HumanDecision } from '@yoke/protocol';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { useSocket } from '@/components/socket-provider';
import { useApprovalSubjects } from '@/hooks/use-approval-subjects';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useNow } from '@/hooks/use-now';
import { ApiError, describeError } from '@/lib/api';
import { decideApproval, listApprovals } from '@/lib/collab-api';
import { inputGist } from '@/lib/conversation';
import { formatDateTime, formatJson, formatWaited } from '@/lib/format';

const DECIDED_NOTE: Record<HumanDecision, string> = {
  approve: 'Approved.',
  approve_session: 'Approved for the rest of the session.',
  deny: 'Denied.',
};

/**
 * Every pending approval the caller may see, across sessions. Kept live without polling: a session's status
 * changes (to or from waiting for approval) arrive by `sessions.watch`, and the list is read again then.
 * `?session=…&approval=…` deep-links one approval (highlighted and scrolled to).
 */
export function ApprovalsInbox() {
  const params = useSearchParams();
  const focus = `${params.get('session') ?? ''}/${params.get('approval') ?? ''}`;
  const { socket } = useSocket();
  const [approvals, setApprovals] = useState<Approval[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const { titles, calls } = useApprovalSubjects(approvals);
  const now = useNow(10_000);
  useDocumentTitle(approvals ? `Approvals (${approvals.length})` : 'Approvals');

  const load = useCallback(async () => {
    try {
      setApprovals(await listApprovals());
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (!socket) return;
    const watch = () =>
      void socket
        .timeout(15_000)
        .emitWithAck('sessions.watch', {})
        .catch(() => undefined);
    const onUpdated = () => void load();
    socket.on('connect', watch);
    socket.on('session.updated', onUpdated);
    socket.on('approval.updated', onUpdated);
    if (socket.connected) watch();
    return () => {
      socket.off('connect', watch);
      socket.off('session.updated', onUpdated);
      socket.off('approval.updated', onUpdated);
    };
  }, [socket, load]);

  useEffect(() => {
    if (!approvals) return;
    document.getElementById(`approval-${focus}`)?.scrollIntoView({ block: 'center' });
  }, [approvals, focus]);

  const decide = async (a: Approval, decision: HumanDecision) => {
    const key = `${a.sessionId}/${a.approvalId}`;
    try {
      await decideApproval(a.sessionId, a.approvalId, decision);
      setNotes((n) => ({ ...n, [key]: DECIDED_NOTE[decision] }));
    } catch (err) {
      setNotes((n) => ({
        ...n,
        [key]: err instanceof ApiError && err.code === 'approval.already_decided' ? err.message : describeError(err),
      }));
    }
    await load();
  };

  return (
    <div className="page" data-testid="approvals-inbox">
      <div className="page-head">
        <h1>Approvals{approvals?.length ? ` (${approvals.length})` : ''}</h1>
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {approvals?.length === 0 && <p className="empty">Nothing is waiting for a decision.</p>}
      <ul className="share-list inbox-list">
        {approvals?.map((a) => {
          const key = `${a.sessionId}/${a.approvalId}`;
          const call = calls.get(`${a.sessionId}/${a.callId ?? ''}`) ?? null;
          return (
            <li
              key={key}
              id={`approval-${key}`}
              className={key === focus ? 'focused' : undefined}
              data-testid="inbox-approval"
              data-approval-id={a.approvalId}
            >
              <div className="grow">
                <div className="inbox-session">
                  <Link href={`/session/?id=${a.sessionId}`} data-testid="inbox-session">
                    {titles.get(a.sessionId) ?? 'Session'}
                  </Link>
                  {call && <span className="chip">{call.tool}</span>}
                  <span
                    className="muted small"
                    title={`Asked ${formatDateTime(a.createdAt)}`}
                    data-testid="inbox-waiting"
                  >
                    waiting {formatWaited(now - Date.parse(a.createdAt))}
                  </span>
                </div>
                {call && (
                  <pre className="code approval-action" data-testid="inbox-action">
                    {inputGist(call.input) ?? formatJson(call.input)}
                  </pre>
                )}
                <div className="small">
                  Policy <code>{a.policy}</code>
                  {a.reason ? `: ${a.reason}` : ''}
                  {notes[key] && <span role="status"> · {notes[key]}</span>}
                </div>
              </div>
              <button type="button" onClick={() => void decide(a, 'approve')} data-testid="inbox-approve">
                Approve
              </button>
              {a.options.includes(APPROVE_SESSION) && (
                <button
                  type="button"
                  onClick={() => void decide(a, APPROVE_SESSION)}
                  title="Approve this, and the same action again in this session without asking"
                  data-testid="inbox-approve-session"
                >
                  Always allow in this session
                </button>
              )}
              <button type="button" className="danger" onClick={() => void decide(a, 'deny')}>
                Deny
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
