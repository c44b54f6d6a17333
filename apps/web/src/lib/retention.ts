import type { LegalHoldScope, RetentionCounts } from '@yoke/protocol';

/** A retention duration as typed in the form: a whole number of days in 1..36500, or "keep forever". */
export type DaysDraft = { forever: boolean; days: string };

export const MAX_RETENTION_DAYS = 36_500;

/** The draft of a stored duration (null: forever; a forever draft still offers a sensible number to start from). */
export function draftOf(days: number | null): DaysDraft {
  return days === null ? { forever: true, days: '90' } : { forever: false, days: String(days) };
}

/** The duration a draft stands for, or an error message to show next to the field. */
export function parseDays(draft: DaysDraft): { ok: true; days: number | null } | { ok: false; error: string } {
  if (draft.forever) return { ok: true, days: null };
  const text = draft.days.trim();
  if (!/^\d+$/.test(text)) return { ok: false, error: 'Enter a whole number of days.' };
  const n = Number(text);
  if (n < 1 || n > MAX_RETENTION_DAYS) return { ok: false, error: `Between 1 and ${MAX_RETENTION_DAYS} days.` };
  return { ok: true, days: n };
}

/** "Kept forever", "Kept 1 day", "Kept 90 days (about 3 months)". */
export function describeDays(days: number | null): string {
  if (days === null) return 'Kept forever';
  const base = `Kept ${days} ${days === 1 ? 'day' : 'days'}`;
  if (days >= 730) return `${base} (about ${Math.round(days / 365)} years)`;
  if (days >= 60) return `${base} (about ${Math.round(days / 30)} months)`;
  return base;
}

const SCOPE_LABEL: Record<LegalHoldScope, string> = { org: 'Whole org', user: 'User', session: 'Session' };

export function scopeLabel(scope: LegalHoldScope): string {
  return SCOPE_LABEL[scope];
}

const KIND_LABEL: Record<string, string> = {
  user_message: 'prompts',
  agent_message: 'agent messages',
  reasoning: 'reasoning',
  tool_call: 'tool inputs',
  tool_result: 'tool outputs',
  command: 'commands and their output',
  file_change: 'file diffs',
  approval_request: 'approval reasons',
  notice: 'notices',
  turn_failed: 'turn errors',
};

/** The preview's counts as lines a person reads: "12 prompts", "3 tool outputs"…, largest first. */
export function countLines(counts: RetentionCounts): string[] {
  const lines = Object.entries(counts.itemsByType)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([type, n]) => `${n} ${KIND_LABEL[type] ?? type.replace(/_/g, ' ')}`);
  if (counts.inboxEntries > 0)
    lines.push(`${counts.inboxEntries} queued ${counts.inboxEntries === 1 ? 'message' : 'messages'}`);
  if (counts.auditContents > 0) {
    lines.push(`${counts.auditContents} audit ${counts.auditContents === 1 ? 'content' : 'contents'} (redacted)`);
  }
  return lines;
}
