import { z } from 'zod';
import { HarnessName, MAX_AGENT_YAML } from './agent';
import { IsoDate, Uuid } from './common';

/**
 * The org's agent library (docs/agents.md, "Agent library"): agents kept on the server, not only as files on one
 * laptop. Each change is a new version; a session starts from a saved agent by id (its latest version, or one named).
 */

/** Agent YAML as it crosses the wire; the parser refuses past MAX_AGENT_YAML with a located error. */
export const AgentYaml = z
  .string()
  .min(1)
  .max(2 * MAX_AGENT_YAML);

/** One problem in agent YAML, located at a 1-based line and column (the `details.issues` of `agent.invalid`). */
export const AgentIssue = z.strictObject({
  file: z.string(),
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  /** Dotted path of the offending field (`tools.shell`); empty for YAML syntax errors. */
  path: z.string(),
  message: z.string(),
});
export type AgentIssue = z.infer<typeof AgentIssue>;

/** What an agent's YAML says about it, for lists and pickers. */
export const AgentSummary = z.strictObject({
  name: z.string(),
  description: z.string().nullable(),
  harness: HarnessName,
  model: z.string().nullable(),
});
export type AgentSummary = z.infer<typeof AgentSummary>;

export const CreateAgentBody = z.strictObject({ yaml: AgentYaml });
export type CreateAgentBody = z.infer<typeof CreateAgentBody>;

/** A new version of a saved agent. `expectedVersion`, when given, refuses the change if someone saved since. */
export const UpdateAgentBody = z.strictObject({
  yaml: AgentYaml,
  expectedVersion: z.number().int().positive().optional(),
});
export type UpdateAgentBody = z.infer<typeof UpdateAgentBody>;

export const ValidateAgentBody = z.strictObject({ yaml: AgentYaml });
export type ValidateAgentBody = z.infer<typeof ValidateAgentBody>;

/** `POST /agents/validate`: the same checks a session or a save makes, without storing anything. */
export const AgentValidation = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), agent: AgentSummary }),
  z.strictObject({ ok: z.literal(false), message: z.string(), issues: z.array(AgentIssue) }),
]);
export type AgentValidation = z.infer<typeof AgentValidation>;

/** A saved agent at its latest version. */
export const LibraryAgent = AgentSummary.extend({
  id: Uuid,
  version: z.number().int().positive(),
  yaml: z.string(),
  createdBy: Uuid.nullable(),
  updatedBy: Uuid.nullable(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type LibraryAgent = z.infer<typeof LibraryAgent>;

export const LibraryAgentList = z.strictObject({ agents: z.array(LibraryAgent) });
export type LibraryAgentList = z.infer<typeof LibraryAgentList>;

/** One version of a saved agent, as it was saved. */
export const LibraryAgentVersion = AgentSummary.extend({
  agentId: Uuid,
  version: z.number().int().positive(),
  yaml: z.string(),
  createdBy: Uuid.nullable(),
  createdAt: IsoDate,
});
export type LibraryAgentVersion = z.infer<typeof LibraryAgentVersion>;

export const LibraryAgentVersionList = z.strictObject({ versions: z.array(LibraryAgentVersion) });
export type LibraryAgentVersionList = z.infer<typeof LibraryAgentVersionList>;

/** An example agent shipped with Yoke (`examples/*.yaml`), read-only. */
export const ExampleAgent = AgentSummary.extend({ file: z.string(), yaml: z.string() });
export type ExampleAgent = z.infer<typeof ExampleAgent>;

export const ExampleAgentList = z.strictObject({ examples: z.array(ExampleAgent) });
export type ExampleAgentList = z.infer<typeof ExampleAgentList>;
