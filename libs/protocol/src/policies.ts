import { z } from 'zod';
import { Actor, IsoDate, Uuid } from './common';

export const PolicyLevel = z.enum(['org', 'agent', 'session']);
export type PolicyLevel = z.infer<typeof PolicyLevel>;

/** The most policy YAML one level may hold. */
export const MAX_POLICY_YAML = 256 * 1024;

/** A policy as it travels to a runner: its level, where it came from, and its (not yet validated) spec. */
export const PolicyEntryWire = z.strictObject({
  level: PolicyLevel,
  origin: z.string().min(1).max(300),
  spec: z.record(z.string(), z.unknown()),
});
export type PolicyEntryWire = z.infer<typeof PolicyEntryWire>;

/** One problem in a policy file, positioned for editors and terminals. */
export const PolicyIssue = z.strictObject({
  file: z.string(),
  path: z.string(),
  line: z.number().int(),
  col: z.number().int(),
  message: z.string(),
});
export type PolicyIssue = z.infer<typeof PolicyIssue>;

/** The org's policy set: the YAML an admin wrote, versioned. */
export const OrgPolicies = z.strictObject({
  yaml: z.string(),
  version: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  updatedAt: IsoDate.nullable(),
  updatedBy: Actor.nullable(),
});
export type OrgPolicies = z.infer<typeof OrgPolicies>;

export const PutPoliciesBody = z.strictObject({
  /** The parser refuses past MAX_POLICY_YAML with a 422 that says so; this bound only caps what crosses the wire. */
  yaml: z.string().max(2 * MAX_POLICY_YAML),
  /** Optimistic concurrency: refuse the write when someone else changed the set since this version. */
  expectedVersion: z.number().int().nonnegative().optional(),
});
export type PutPoliciesBody = z.infer<typeof PutPoliciesBody>;

export const DryRunBody = z.strictObject({
  /** The policy set to try; default: the org's current one. */
  yaml: z
    .string()
    .max(2 * MAX_POLICY_YAML)
    .optional(),
  sessionIds: z.array(Uuid).min(1).max(100),
});
export type DryRunBody = z.infer<typeof DryRunBody>;

export const Verdict = z.enum(['allow', 'ask', 'deny']);
export type Verdict = z.infer<typeof Verdict>;

/** What a policy set would have said about one recorded action. */
export const DryRunDecision = z.strictObject({
  seq: z.number().int().positive(),
  action: z.enum(['prompt', 'tool_call', 'usage']),
  summary: z.string(),
  verdict: Verdict,
  /** What the session actually recorded for this action, when it recorded a decision. */
  recorded: Verdict.nullable(),
  policies: z.array(z.string()),
  reasons: z.array(z.string()),
});
export type DryRunDecision = z.infer<typeof DryRunDecision>;

export const DryRunSession = z.strictObject({
  sessionId: Uuid,
  title: z.string(),
  actions: z.number().int().nonnegative(),
  counts: z.strictObject({ allow: z.number().int(), ask: z.number().int(), deny: z.number().int() }),
  /** Only the actions that would not simply be allowed, in session order. */
  decisions: z.array(DryRunDecision),
});
export type DryRunSession = z.infer<typeof DryRunSession>;

export const DryRunReport = z.strictObject({
  policies: z.number().int().nonnegative(),
  sessions: z.array(DryRunSession),
});
export type DryRunReport = z.infer<typeof DryRunReport>;
