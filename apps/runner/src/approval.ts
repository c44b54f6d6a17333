/** How a request for a person's approval ended. */
export type ApprovalAnswer = 'approve' | 'deny' | 'timeout' | 'cancelled';

/** What the policy gate asks a person to approve; the session supervisor records the request and waits. */
export interface ApprovalAsk {
  subject: 'tool_call' | 'prompt' | 'usage';
  callId?: string;
  policy: string;
  reason: string;
}
