import { z } from 'zod';
import { IsoDate, Uuid } from './common';
import type { InboxInput } from './session';
import type { ItemBody } from './items';

/** How many days content is kept: 1 day to 100 years, or `null` to keep it forever. */
export const RetentionDays = z.number().int().min(1).max(36_500).nullable();

/**
 * An org's retention (docs/governance.md, "Retention and legal hold"): how long session content (prompts, messages,
 * reasoning, tool input and output, command output, file diffs, notices) and audit content are kept. Session content
 * ages from the session's last activity; audit content from its event's time. Audit events themselves are kept.
 */
export const RetentionSettings = z.strictObject({
  sessionContentDays: RetentionDays,
  auditContentDays: RetentionDays,
});
export type RetentionSettings = z.infer<typeof RetentionSettings>;

export const RetentionSettingsView = RetentionSettings.extend({
  updatedAt: IsoDate.nullable(),
  updatedBy: Uuid.nullable(),
});
export type RetentionSettingsView = z.infer<typeof RetentionSettingsView>;

export const UpdateRetentionBody = RetentionSettings;
export type UpdateRetentionBody = z.infer<typeof UpdateRetentionBody>;

/** What a legal hold covers: the whole org, everything of one user (sessions they own, events they acted in), a session. */
export const LegalHoldScope = z.enum(['org', 'user', 'session']);
export type LegalHoldScope = z.infer<typeof LegalHoldScope>;

export const LegalHoldBody = z.strictObject({
  scope: LegalHoldScope,
  /** The org's id (scope `org`, the caller's own org), a member's user id, or a session id of the org. */
  targetId: Uuid,
  reason: z.string().trim().min(1).max(500),
});
export type LegalHoldBody = z.infer<typeof LegalHoldBody>;

export const LegalHoldView = z.strictObject({
  id: Uuid,
  scope: LegalHoldScope,
  targetId: Uuid,
  /** The org's name, the user's email, or the session's title. */
  targetLabel: z.string(),
  reason: z.string(),
  createdBy: Uuid,
  createdAt: IsoDate,
  releasedAt: IsoDate.nullable(),
  releasedBy: Uuid.nullable(),
});
export type LegalHoldView = z.infer<typeof LegalHoldView>;

export const LegalHoldsQuery = z.strictObject({
  /** Released holds too (they stay, for the record). */
  all: z.enum(['true', 'false']).default('false'),
});
export type LegalHoldsQuery = z.infer<typeof LegalHoldsQuery>;

/** The holds that kept something, by id and scope. */
export const HoldRef = z.strictObject({ id: Uuid, scope: LegalHoldScope, targetId: Uuid });
export type HoldRef = z.infer<typeof HoldRef>;

export const RetentionPreviewSession = z.strictObject({
  id: Uuid,
  title: z.string(),
  ownerId: Uuid,
  lastActivityAt: IsoDate,
  /** Items whose content would be erased. */
  items: z.number().int().nonnegative(),
});
export type RetentionPreviewSession = z.infer<typeof RetentionPreviewSession>;

export const RetentionCounts = z.strictObject({
  /** Session items whose content is erased, by item type. */
  itemsByType: z.record(z.string(), z.number().int().nonnegative()),
  sessionItems: z.number().int().nonnegative(),
  sessions: z.number().int().nonnegative(),
  inboxEntries: z.number().int().nonnegative(),
  auditContents: z.number().int().nonnegative(),
});
export type RetentionCounts = z.infer<typeof RetentionCounts>;

/** The dry-run: what a sweep would erase now, and what holds keep. */
export const RetentionPreview = z.strictObject({
  settings: RetentionSettings,
  /** Content older than these instants is due (null: kept forever). */
  sessionCutoff: IsoDate.nullable(),
  auditCutoff: IsoDate.nullable(),
  counts: RetentionCounts,
  sessions: z.array(RetentionPreviewSession),
  /** Whether `sessions` stops short of every session due (the counts are always complete). */
  truncated: z.boolean(),
  held: z.strictObject({
    sessions: z.array(z.strictObject({ id: Uuid, title: z.string(), holds: z.array(HoldRef) })),
    auditContents: z.number().int().nonnegative(),
    holds: z.array(HoldRef),
  }),
});
export type RetentionPreview = z.infer<typeof RetentionPreview>;

/** What one sweep erased (also the counts its `retention.erased` audit event carries). */
export const RetentionRunResult = z.strictObject({ counts: RetentionCounts, at: IsoDate });
export type RetentionRunResult = z.infer<typeof RetentionRunResult>;

/** The rule recorded on audit content redacted by retention: `retention-<days>d`. */
export const retentionRule = (days: number) => `retention-${days}d`;

/** The text erased session content is replaced with, dated (UTC day). */
export function erasureMarker(at: Date): string {
  return `[erased by retention on ${at.toISOString().slice(0, 10)}]`;
}

/** Tool input after erasure. */
export const ERASED_INPUT = { erased: true } as const;

/** Item types that carry content retention erases. */
export const ERASABLE_ITEM_TYPES = [
  'user_message',
  'agent_message',
  'reasoning',
  'tool_call',
  'tool_result',
  'command',
  'file_change',
  'approval_request',
  'notice',
  'turn_failed',
] as const satisfies readonly ItemBody['type'][];

/**
 * An item body with its content replaced by the marker, still a valid body of its type: text becomes the marker, tool
 * input `{ "erased": true }`, argv and outputs the marker, diffs the marker (paths, ids, statuses and policy state
 * stay). Bodies without content come back unchanged.
 */
export function eraseItemBody(body: ItemBody, marker: string): ItemBody {
  switch (body.type) {
    case 'user_message':
      return { ...body, content: [{ type: 'text', text: marker }] };
    case 'agent_message':
    case 'reasoning':
    case 'notice':
      return { ...body, text: marker };
    case 'tool_call':
      return { ...body, input: ERASED_INPUT };
    case 'tool_result':
      return { ...body, output: marker };
    case 'command':
      return { ...body, argv: [marker], cwd: '', output: marker };
    case 'file_change':
      return { ...body, diff: marker };
    case 'approval_request':
      return { ...body, reason: marker };
    case 'turn_failed':
      return { ...body, error: marker };
    default:
      return body;
  }
}

/** An inbox input with its content replaced by the marker (a message's text); others are unchanged. */
export function eraseInboxInput(input: InboxInput, marker: string): InboxInput {
  return input.kind === 'message' ? { ...input, content: [{ type: 'text', text: marker }] } : input;
}
