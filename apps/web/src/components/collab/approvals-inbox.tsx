'use client';

import { type Approval, APPROVE_SESSION, type HumanDecision } from '@yoke/protocol';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { DECIDED_NOTE } from '@/components/collab/approval-actions';
import { usePendingApprovals } from '@/components/shell/pending-approvals';
import { useToast } from '@/components/shell/toast';
import { useApprovalSubjects } from '@/hooks/use-approval-subjects';
import { DECISION_KEYS, decisionForKey, useSingleKeys } from '@/hooks/use-decision-keys';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useNow } from '@/hooks/use-now';
import { ApiError, describeError } from '@/lib/api';
import { decideApproval } from '@/lib/collab-api';
import { inputGist } from '@/lib/conversation';
import { formatDateTime, formatJson, formatWaited } from '@/lib/format';

const keyOf = (a: Approval) => `${a.sessionId}/${a.approvalId}`;

/**
 * Every pending approval the caller may see, across sessions: the shell's one live list (PendingApprovalsProvider),
 * the same the nav's badge counts, read again after a decision made here.
 * `?session=…&approval=…` deep-links one approval (highlighted and scrolled to).
 *
 * By keyboard, as in Linear or GitHub: j / k (or ↓ / ↑) move a cursor between approvals, a approves, s approves for
 * the session where offered, d denies, Enter opens the session. The cursor starts at the deep-linked approval; when
 * its approval leaves the list it moves to the one that took its place.
 */
export function ApprovalsInbox() {
  const params = useSearchParams();
  const focus = `${params.get('session') ?? ''}/${params.get('approval') ?? ''}`;
  const router = useRouter();
  const toast = useToast();
  const { approvals, error, reload: load } = usePendingApprovals();
  const [notes, setNotes] = useState<Record<string, string>>({});
  const { titles, calls } = useApprovalSubjects(approvals);
  const now = useNow(10_000);
  const [cursor, setCursor] = useState<string | null>(focus === '/' ? null : focus);
  const cursorIndex = useRef(-1);
  /** Approvals with a decision on its way: a second key press before the answer sends nothing. */
  const deciding = useRef(new Set<string>());
  // The title shows the count itself: the shell does not lead it with `(2) ` as well.
  useDocumentTitle(approvals ? `Approvals (${approvals.length})` : 'Approvals', { hasCount: true });

  useEffect(() => {
    if (!approvals) return;
    document.getElementById(`approval-${focus}`)?.scrollIntoView({ block: 'center' });
  }, [approvals, focus]);

  // The cursor names an approval; once that one is decided (here or elsewhere) it moves to the row now in its place.
  useEffect(() => {
    if (!approvals || cursor === null) return;
    const at = approvals.findIndex((a) => keyOf(a) === cursor);
    if (at >= 0) {
      cursorIndex.current = at;
      return;
    }
    if (cursorIndex.current < 0) return;
    const next = approvals[Math.min(cursorIndex.current, approvals.length - 1)];
    setCursor(next ? keyOf(next) : null);
  }, [approvals, cursor]);

  const moveCursor = (by: number): boolean => {
    if (!approvals?.length) return false;
    const at = approvals.findIndex((a) => keyOf(a) === cursor);
    const next = at < 0 ? (by > 0 ? 0 : approvals.length - 1) : Math.max(0, Math.min(approvals.length - 1, at + by));
    const key = keyOf(approvals[next]);
    cursorIndex.current = next;
    setCursor(key);
    // Focus follows the cursor so screen readers read the approval, and the page scrolls to it.
    document.getElementById(`approval-${key}`)?.focus();
    return true;
  };

  const decide = async (a: Approval, decision: HumanDecision) => {
    const key = keyOf(a);
    if (deciding.current.has(key)) return;
    deciding.current.add(key);
    try {
      await decideApproval(a.sessionId, a.approvalId, decision);
      setNotes((n) => ({ ...n, [key]: DECIDED_NOTE[decision] }));
      toast({ kind: 'success', text: `${DECIDED_NOTE[decision]} ${titles.get(a.sessionId) ?? 'Session'}` });
    } catch (err) {
      const text =
        err instanceof ApiError && err.code === 'approval.already_decided' ? err.message : describeError(err);
      setNotes((n) => ({ ...n, [key]: text }));
      toast({ kind: 'error', text });
    } finally {
      deciding.current.delete(key);
    }
    await load();
  };

  useSingleKeys((e) => {
    if (e.key === 'j' || e.key === 'ArrowDown') return moveCursor(1);
    if (e.key === 'k' || e.key === 'ArrowUp') return moveCursor(-1);
    const current = approvals?.find((a) => keyOf(a) === cursor);
    if (!current) return false;
    if (e.key === 'Enter') {
      // Enter on a focused button or link is theirs.
      if (e.target instanceof HTMLElement && e.target.closest('button, a')) return false;
      router.push(`/session/?id=${current.sessionId}`);
      return true;
    }
    const decision = decisionForKey(e.key, current.options);
    if (!decision) return false;
    void decide(current, decision);
    return true;
  }, approvals !== null);

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
      {!!approvals?.length && (
        <p className="muted small decision-hint" data-testid="inbox-keys-hint">
          <kbd>j</kbd> <kbd>k</kbd> move, <kbd>{DECISION_KEYS.approve}</kbd> approve,{' '}
          <kbd>{DECISION_KEYS.approve_session}</kbd> always allow in the session, <kbd>{DECISION_KEYS.deny}</kbd> deny,{' '}
          <kbd>Enter</kbd> open the session
        </p>
      )}
      <ul className="share-list inbox-list">
        {approvals?.map((a) => {
          const key = keyOf(a);
          const call = calls.get(`${a.sessionId}/${a.callId ?? ''}`) ?? null;
          const isCursor = key === cursor;
          const shortcut = (decision: HumanDecision) =>
            isCursor ? { 'data-key': DECISION_KEYS[decision], 'aria-keyshortcuts': DECISION_KEYS[decision] } : {};
          return (
            <li
              key={key}
              id={`approval-${key}`}
              tabIndex={-1}
              className={isCursor ? 'focused decision-keys' : undefined}
              aria-current={isCursor ? 'true' : undefined}
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
              <button
                type="button"
                onClick={() => void decide(a, 'approve')}
                data-testid="inbox-approve"
                {...shortcut('approve')}
              >
                Approve
              </button>
              {a.options.includes(APPROVE_SESSION) && (
                <button
                  type="button"
                  onClick={() => void decide(a, APPROVE_SESSION)}
                  title="Approve this, and the same action again in this session without asking"
                  data-testid="inbox-approve-session"
                  {...shortcut(APPROVE_SESSION)}
                >
                  Always allow in this session
                </button>
              )}
              <button
                type="button"
                className="danger"
                onClick={() => void decide(a, 'deny')}
                data-testid="inbox-deny"
                {...shortcut('deny')}
              >
                Deny
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
