import type { ItemDraft, SessionStatus } from '@yoke/protocol';

export type SessionRollup = {
  status: SessionStatus;
  statusReason: string | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
};

/** Folds newly persisted items into the session's status and totals. Pure; the same fold for every replica. */
export function rollUp(current: SessionRollup, items: ItemDraft[]): SessionRollup {
  const next = { ...current };
  for (const item of items) {
    switch (item.type) {
      case 'turn_started':
      case 'approval_decision':
        if (next.status !== 'archived') next.status = 'running';
        next.statusReason = null;
        break;
      case 'approval_request':
        if (next.status !== 'archived') next.status = item.subject === 'usage' ? 'paused' : 'waiting_approval';
        next.statusReason = item.reason;
        break;
      case 'turn_completed':
        if (next.status !== 'archived') next.status = 'idle';
        next.statusReason = item.stopReason === 'end_turn' ? null : item.stopReason;
        break;
      case 'turn_failed':
        if (next.status !== 'archived') next.status = 'failed';
        next.statusReason = item.error;
        break;
      case 'usage':
        next.costUsd += item.costUsd;
        next.inputTokens += item.inputTokens;
        next.outputTokens += item.outputTokens;
        break;
      default:
        break;
    }
  }
  return next;
}
