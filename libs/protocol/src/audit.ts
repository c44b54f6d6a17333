import { z } from 'zod';
import { IsoDate, Uuid } from './common';

/**
 * The audit trail's wire contract (DESIGN §9). An event is the leaf of its org's Merkle tree exactly as it is
 * written here: `AuditEvent` is what gets RFC 8785-canonicalised and hashed, so a field added here changes what a
 * verifier recomputes, and its schema version (`AUDIT_SCHEMA`) moves with it.
 */
export const AUDIT_SCHEMA = 'yoke.audit/1';

/** Who acted. `agent` acts on behalf of a user (onBehalfOf), `system` is the server itself (jobs, boot). */
export const AuditActorKind = z.enum(['user', 'guest', 'token', 'runner', 'agent', 'system']);
export type AuditActorKind = z.infer<typeof AuditActorKind>;

export const AuditActor = z.strictObject({
  kind: AuditActorKind,
  /** User, share-link, API token or runner id; the session id for an agent; 'yoke' for the system. */
  id: z.string().min(1).max(200),
  /** A readable name at the time (email, link label, runner name); evidence, not identity. */
  name: z.string().max(320).optional(),
  /** The user an agent, a token or a guest's link acts for. */
  onBehalfOf: z.string().max(200).optional(),
});
export type AuditActor = z.infer<typeof AuditActor>;

export const AuditOutcome = z.enum(['success', 'denied', 'failed']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** What an event is about: a kind (`session`, `runner`, `api_token`, `member`, `host`…) and its id. */
export const AuditTarget = z.strictObject({
  kind: z.string().min(1).max(64),
  id: z.string().max(500),
  name: z.string().max(500).optional(),
});
export type AuditTarget = z.infer<typeof AuditTarget>;

/** `domain.verb`, lowercase: `session.created`, `auth.sign_in`, `policy.decision`… (catalogue: docs/audit.md). */
export const AuditAction = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/, 'domain.verb, lowercase');

/**
 * Event details: small, structured, never content (prompt text, commands, tool input/output, secrets). Content
 * is stored apart and referenced by `contentHash`, so retention can erase it while the leaf still verifies.
 */
export const AuditDetails = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type AuditDetails = z.infer<typeof AuditDetails>;

export const AuditEvent = z.strictObject({
  schema: z.literal(AUDIT_SCHEMA),
  id: Uuid,
  orgId: Uuid,
  /** 1-based, gap-free per org; the event is leaf `seq - 1` of the org's tree. */
  seq: z.number().int().positive(),
  /** Millisecond ISO-8601 UTC (`…T…Z`). */
  at: IsoDate,
  actor: AuditActor,
  action: AuditAction,
  target: AuditTarget,
  outcome: AuditOutcome,
  requestId: z.string().max(200).nullable(),
  ip: z.string().max(100).nullable(),
  userAgent: z.string().max(1000).nullable(),
  sessionId: Uuid.nullable(),
  turnId: z.string().max(200).nullable(),
  /** Lowercase hex SHA-256 of the content's canonical JSON, when the event has content. */
  contentHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  details: AuditDetails,
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** An event as the API lists it: the leaf plus what the store knows of its content. */
export const AuditEventView = z.strictObject({
  event: AuditEvent,
  /** Hex leaf hash recorded at append time. */
  leaf: z.string().regex(/^[0-9a-f]{64}$/),
  content: z
    .strictObject({
      hash: z.string(),
      /** Set once retention erased the content: the leaf still verifies, the content is gone under this rule. */
      redacted: z.strictObject({ rule: z.string(), at: IsoDate }).nullable(),
    })
    .nullable(),
});
export type AuditEventView = z.infer<typeof AuditEventView>;

export const AuditEventsQuery = z.strictObject({
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(64).optional(),
  outcome: AuditOutcome.optional(),
  sessionId: Uuid.optional(),
  /** Events after this seq (cursor paging, ascending). */
  after: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditEventsQuery = z.infer<typeof AuditEventsQuery>;

export const AuditEventsPage = z.strictObject({
  events: z.array(AuditEventView),
  nextAfter: z.number().int().nullable(),
});
export type AuditEventsPage = z.infer<typeof AuditEventsPage>;

/** A signed checkpoint: the C2SP signed note over `origin\nsize\nbase64(root)\n`. */
export const AuditCheckpointView = z.strictObject({
  size: z.number().int().nonnegative(),
  root: z.string(),
  at: IsoDate,
  keyId: z.string(),
  note: z.string(),
});
export type AuditCheckpointView = z.infer<typeof AuditCheckpointView>;

export const AuditKeyView = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** C2SP verifier key: `name+hex(keyhash)+base64(0x01 || ed25519 public key)`. */
  vkey: z.string(),
  createdAt: IsoDate,
  retiredAt: IsoDate.nullable(),
});
export type AuditKeyView = z.infer<typeof AuditKeyView>;

export const AuditExportFormat = z.enum(['jsonl', 'csv', 'ocsf']);
export type AuditExportFormat = z.infer<typeof AuditExportFormat>;

export const CreateAuditExportBody = z.strictObject({
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  sessionId: Uuid.optional(),
  actor: z.string().max(200).optional(),
  format: AuditExportFormat.default('jsonl'),
});
export type CreateAuditExportBody = z.infer<typeof CreateAuditExportBody>;

export const AuditExportStatus = z.enum(['queued', 'running', 'done', 'failed']);
export const AuditExportView = z.strictObject({
  id: Uuid,
  status: AuditExportStatus,
  format: AuditExportFormat,
  /** 0..1 */
  progress: z.number().min(0).max(1),
  events: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().nullable(),
  error: z.string().nullable(),
  createdAt: IsoDate,
  finishedAt: IsoDate.nullable(),
});
export type AuditExportView = z.infer<typeof AuditExportView>;
