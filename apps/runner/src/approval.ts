import type { ApprovalDecision } from '@yoke/protocol';

/** How a request for a person's approval ended (`expired` is only ever recorded after a restart, never awaited). */
export type ApprovalAnswer = Exclude<ApprovalDecision, 'expired'>;

/** Whether the action that waited goes ahead: approved, for this once or for the rest of the session. */
export function isApproved(answer: ApprovalAnswer): boolean {
  return answer === 'approve' || answer === 'approve_session';
}

/** What the policy gate asks a person to approve; the session supervisor records the request and waits. */
export interface ApprovalAsk {
  subject: 'tool_call' | 'prompt' | 'usage';
  callId?: string;
  policy: string;
  reason: string;
  /** Whether "always allow in this session" (`approve_session`) is offered (the decision's `sessionGrant`). */
  canApproveForSession?: boolean;
}
