import { z } from 'zod';
import { Actor, IsoDate, Uuid } from './common';

export const ApprovalStatus = z.enum(['pending', 'approved', 'denied', 'timed_out']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/** An approval as every client sees it: created by an `approval_request` item, settled once. */
export const Approval = z.strictObject({
  sessionId: Uuid,
  approvalId: z.string(),
  callId: z.string().nullable(),
  policy: z.string(),
  reason: z.string(),
  options: z.array(z.string()),
  status: ApprovalStatus,
  decidedBy: Actor.nullable(),
  decidedAt: IsoDate.nullable(),
  createdAt: IsoDate,
});
export type Approval = z.infer<typeof Approval>;

/** An approval's id within its session (the runner's `approvalId`), as a path parameter names it. */
export const ApprovalId = z.string().min(1).max(200);

/**
 * What a person may answer. `approve_session` approves this request and, for the rest of the session, the same action
 * (same tool; for a shell call the exact same command line) without asking again; a policy deny still denies. It is
 * offered only where the request's `options` hold it (its policies allow it: `allow_always`, docs/policies.md).
 */
export const HumanDecision = z.enum(['approve', 'approve_session', 'deny']);
export type HumanDecision = z.infer<typeof HumanDecision>;

/** The session-wide option, as it appears in an approval request's `options`. */
export const APPROVE_SESSION = 'approve_session' satisfies HumanDecision;

/**
 * How an approval ended, as the runner records it in an `approval_decision` item: a person's answer, or `timeout`
 * (nobody answered in time), `cancelled` (the turn was cancelled), `expired` (the runner restarted while it waited).
 */
export const ApprovalDecision = z.enum([...HumanDecision.options, 'timeout', 'cancelled', 'expired']);
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export const DecideApprovalBody = z.strictObject({ decision: HumanDecision });
export type DecideApprovalBody = z.infer<typeof DecideApprovalBody>;

/** How an `approval_decision` item's `decision` maps to a final status. */
export function approvalStatusFor(decision: ApprovalDecision): ApprovalStatus {
  switch (decision) {
    case 'approve':
    case 'approve_session':
      return 'approved';
    case 'timeout':
      return 'timed_out';
    case 'deny':
    case 'cancelled':
    case 'expired':
      return 'denied';
  }
}
