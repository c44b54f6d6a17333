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

export const DecideApprovalBody = z.strictObject({ decision: z.enum(['approve', 'deny']) });
export type DecideApprovalBody = z.infer<typeof DecideApprovalBody>;

/** How an `approval_decision` item's `decision` maps to a final status. */
export function approvalStatusFor(decision: string): ApprovalStatus {
  if (decision === 'approve') return 'approved';
  if (decision === 'timeout') return 'timed_out';
  return 'denied';
}
