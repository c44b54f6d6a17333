import { z } from 'zod';
import { IsoDate, MAX_SEQ, Uuid } from './common';
import { HarnessName, MAX_AGENT_YAML } from './agent';
import { MAX_POLICY_YAML, PolicyIssue } from './policies';
import { ContentPart } from './items';
import { ItemSchema } from './item-schema';
import { CreatedToken, OrgView } from './identity';
import { AuditCheckpointView } from './audit';
import { Session, SessionStatus } from './session';

/** REST is served under this prefix. */
export const API_PREFIX = '/api/v1';

const IdempotencyKey = z.string().min(1).max(200);

export const CreateSessionBody = z
  .strictObject({
    /**
     * The agent YAML text; validated by the server with the same rules as the CLI. The parser refuses past
     * MAX_AGENT_YAML with a 422 that says so; this bound only caps what crosses the wire. Either this or `agentId`.
     */
    agentYaml: z
      .string()
      .min(1)
      .max(2 * MAX_AGENT_YAML)
      .optional(),
    agentFile: z.string().max(4096).optional(),
    /** A saved agent of the org's library (docs/agents.md): its latest version, or `agentVersion`. */
    agentId: Uuid.optional(),
    agentVersion: z.number().int().positive().optional(),
    harness: HarnessName.optional(),
    model: z.string().min(1).max(200).optional(),
    runnerId: Uuid.optional(),
    workspace: z.string().min(1).max(4096).optional(),
    title: z.string().max(200).optional(),
    prompt: z
      .string()
      .min(1)
      .max(256 * 1024)
      .optional(),
    /** Session-level policies (YAML): they can only tighten what the org and the agent set. */
    policiesYaml: z
      .string()
      .min(1)
      .max(2 * MAX_POLICY_YAML)
      .optional(),
    idempotencyKey: IdempotencyKey.optional(),
  })
  .refine((b) => (b.agentYaml === undefined) !== (b.agentId === undefined), {
    message: 'give the agent as `agentYaml` or as a saved `agentId`, not both',
    path: ['agentYaml'],
  })
  .refine((b) => b.agentVersion === undefined || b.agentId !== undefined, {
    message: '`agentVersion` names a version of a saved `agentId`',
    path: ['agentVersion'],
  });
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

export const ListSessionsQuery = z.strictObject({
  status: SessionStatus.optional(),
  includeArchived: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  /** Only the children (delegations) of this session. */
  parentId: Uuid.optional(),
  /**
   * Only sessions whose title, agent name, harness, model or id contains this text (case-insensitive; `%` and `_`
   * match themselves). Blank is no filter.
   */
  q: z
    .string()
    .max(200)
    .transform((s) => s.trim() || undefined)
    .optional(),
});
export type ListSessionsQuery = z.infer<typeof ListSessionsQuery>;

export const SessionPage = z.strictObject({ sessions: z.array(Session), nextCursor: z.string().nullable() });
export type SessionPage = z.infer<typeof SessionPage>;

/**
 * `GET /sessions/:id/items`. Pages are large by default: a client catching up pages until `hasMore` is false, and
 * each page is a round trip; the server also ends a page early at a size in bytes (several MB), so a page may hold
 * fewer than `limit` items with `hasMore` true.
 */
export const ItemsQuery = z.strictObject({
  afterSeq: z.coerce.number().int().nonnegative().max(MAX_SEQ).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
});
export type ItemsQuery = z.infer<typeof ItemsQuery>;

/** `GET /sessions/:id/items`: a page of items after `afterSeq`, the session's `lastSeq`, and whether more follow. */
export const ItemsPage = z.strictObject({
  items: z.array(ItemSchema),
  lastSeq: z.number().int().nonnegative().max(MAX_SEQ),
  hasMore: z.boolean(),
});
export type ItemsPage = z.infer<typeof ItemsPage>;

export const SendMessageBody = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(256 * 1024)
    .optional(),
  content: z.array(ContentPart).min(1).max(100).optional(),
  idempotencyKey: IdempotencyKey.optional(),
  /**
   * From this turn on, run the session on this harness (a `HarnessName`; checked by the server, which answers an
   * unknown one with 422 `harness.unknown` and queues nothing) and/or this model. Recorded on the session at once.
   */
  harness: z.string().min(1).max(300).optional(),
  model: z.string().min(1).max(200).optional(),
});
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const CancelBody = z.strictObject({ idempotencyKey: IdempotencyKey.optional() });
export type CancelBody = z.infer<typeof CancelBody>;

export const InputAccepted = z.strictObject({ inboxId: Uuid, delivered: z.boolean() });
export type InputAccepted = z.infer<typeof InputAccepted>;

export const CreateEnrolmentBody = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
});
export type CreateEnrolmentBody = z.infer<typeof CreateEnrolmentBody>;
export const Enrolment = z.strictObject({ token: z.string(), expiresAt: IsoDate });
export type Enrolment = z.infer<typeof Enrolment>;

export const EnrolBody = z.strictObject({
  token: z.string().min(1).max(200),
  name: z.string().min(1).max(100),
  platform: z.string().max(100).optional(),
});
export type EnrolBody = z.infer<typeof EnrolBody>;
export const EnrolReply = z.strictObject({ runnerId: Uuid, orgId: Uuid, credential: z.string() });
export type EnrolReply = z.infer<typeof EnrolReply>;

export const RunnerView = z.strictObject({
  id: Uuid,
  name: z.string(),
  online: z.boolean(),
  lastSeenAt: IsoDate.nullable(),
  createdAt: IsoDate,
});
export type RunnerView = z.infer<typeof RunnerView>;

export const Me = z.strictObject({
  userId: Uuid,
  orgId: Uuid,
  name: z.string(),
  email: z.string(),
  role: z.enum(['owner', 'admin', 'member', 'auditor']),
});
export type Me = z.infer<typeof Me>;

/** How the server runs: embedded (one local user, no login) or team (orgs, sign-in, API tokens). */
export const ServerMode = z.enum(['embedded', 'team']);
export type ServerMode = z.infer<typeof ServerMode>;

/** `GET /me`: the caller, and the server's mode (the web shows mode-specific controls). */
/** `GET /me`: the caller, how the server runs, and what their credential carries. */
export const MeView = Me.extend({
  mode: ServerMode,
  /** The membership role behind a read-only token (whose `role` is capped to auditor). */
  memberRole: Me.shape.role.optional(),
  /** A share-link guest's credential opens this one session, with this role, and nothing else. */
  scope: z
    .strictObject({
      sessionId: Uuid,
      grantId: z.string(),
      linkId: z.string().nullable(),
      role: z.enum(['driver', 'commenter', 'viewer']),
    })
    .optional(),
});
export type MeView = z.infer<typeof MeView>;

/** `POST /orgs`: a new org owned by the caller, and an API token to act in it (shown once). */
export const CreateOrgReply = z.strictObject({ org: OrgView, token: CreatedToken });
export type CreateOrgReply = z.infer<typeof CreateOrgReply>;

/** `GET /audit/status`: how many events the org's log holds, and its latest signed checkpoint. */
export const AuditStatus = z.strictObject({
  size: z.number().int().nonnegative(),
  checkpoint: AuditCheckpointView.nullable(),
});
export type AuditStatus = z.infer<typeof AuditStatus>;

/** `POST /policies/validate`: the problems of a policy file (none: `ok`); nothing is stored. */
export const PolicyValidation = z.strictObject({ ok: z.boolean(), issues: z.array(PolicyIssue) });
export type PolicyValidation = z.infer<typeof PolicyValidation>;

/** `GET /health`: the process answers (liveness). */
export const Liveness = z.strictObject({ status: z.literal('ok') });
export type Liveness = z.infer<typeof Liveness>;

/** `GET /ready`: every dependency answered (a 503 `service.unavailable` names the one down). */
export const Readiness = z.strictObject({
  status: z.literal('ok'),
  checks: z.partialRecord(z.enum(['postgres', 'redis']), z.enum(['ok', 'down', 'timeout'])),
});
export type Readiness = z.infer<typeof Readiness>;
