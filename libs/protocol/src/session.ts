import { z } from 'zod';
import { PolicyEntryWire } from './policies';
import { Actor, IsoDate, Seq, TraceParent, Uuid } from './common';
import { AgentSpec, HarnessName } from './agent';
import { ContentPart } from './items';
import { HumanDecision } from './approvals';

export const SessionStatus = z.enum(['idle', 'running', 'waiting_approval', 'paused', 'failed', 'archived']);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const Session = z.strictObject({
  id: Uuid,
  orgId: Uuid,
  ownerId: Uuid,
  title: z.string(),
  agent: AgentSpec,
  harness: HarnessName,
  model: z.string().nullable(),
  runnerId: Uuid.nullable(),
  runnerOnline: z.boolean(),
  /** The session's runner by name, and whether an org admin revoked it (its queued prompts are never delivered). */
  runnerName: z.string().nullable(),
  runnerRevoked: z.boolean(),
  status: SessionStatus,
  statusReason: z.string().nullable(),
  parentId: Uuid.nullable(),
  forkedFrom: z.strictObject({ sessionId: Uuid, seq: z.number().int().nonnegative() }).nullable(),
  lastSeq: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type Session = z.infer<typeof Session>;

/** What the server sends a runner to start (or resume) a session it was assigned. */
export const SessionStartSpec = z.strictObject({
  sessionId: Uuid,
  agent: AgentSpec,
  harness: HarnessName,
  model: z.string().nullable(),
  workspace: z.string().max(4096).nullable(),
  /** Org and session policies in force for this session (the agent's own travel in `agent.policies`). */
  policies: z.array(PolicyEntryWire).max(500).default([]),
  /** A fork: the server already holds items 1..baseSeq (copied); the runner numbers its items after them. */
  baseSeq: z.number().int().nonnegative().optional(),
  /** A child session started by a parent's `delegate` call: it works in its parent's workspace on the same runner. */
  parentId: Uuid.optional(),
  /**
   * A fork on the runner that holds the session it came from: the runner copies that session's workspace into the
   * fork's own (a git workspace as a clone on its own branch), as it is when the fork starts.
   */
  forkFrom: Uuid.optional(),
  /** The session's org, for the runner's traces (`yoke.org.id`). */
  orgId: Uuid.optional(),
});
export type SessionStartSpec = z.infer<typeof SessionStartSpec>;

/** An input for a runner, stored in the server's inbox and delivered at least once; applied once. */
export const InboxInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('start'), spec: SessionStartSpec }),
  z.strictObject({
    kind: z.literal('message'),
    content: z.array(ContentPart).min(1).max(100),
    actor: Actor,
    /** The request that sent the prompt: the turn it starts is traced under it. */
    traceparent: TraceParent.optional(),
    /**
     * From this turn on, the session runs on this harness and/or model (`SendMessageBody`): the runner closes the
     * current harness process before the turn and starts the new one. A new harness starts without the earlier
     * conversation; a model change on the same harness keeps it where the harness does.
     */
    harness: HarnessName.optional(),
    model: z.string().min(1).max(200).optional(),
  }),
  z.strictObject({ kind: z.literal('cancel'), actor: Actor }),
  z.strictObject({
    kind: z.literal('approval'),
    approvalId: z.string().min(1).max(200),
    decision: HumanDecision,
    actor: Actor,
  }),
  /**
   * A monthly budget reached its cap with this session's spend (docs/governance.md, "Budgets"): the runner pauses
   * the session and asks a human to confirm going on (policy `budget:<scope>:<target>`); once per budget and month.
   */
  z.strictObject({
    kind: z.literal('budget_hold'),
    budgetId: Uuid,
    /** `YYYY-MM` (UTC), the month whose spend reached the cap. */
    month: z.string().regex(/^\d{4}-\d{2}$/),
    policy: z.string().min(1).max(300),
    reason: z.string().min(1).max(1000),
  }),
]);
export type InboxInput = z.infer<typeof InboxInput>;

export const InboxEntry = z.strictObject({
  id: Uuid,
  sessionId: Uuid,
  input: InboxInput,
  createdAt: IsoDate,
});
export type InboxEntry = z.infer<typeof InboxEntry>;

export { Seq };
