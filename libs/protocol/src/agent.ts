import { z } from 'zod';

export const HarnessName = z.union([
  z.enum(['yoke', 'claude-code', 'codex', 'pi', 'claude-sdk', 'openai-agents']),
  z.string().regex(/^acp:\S+/, 'acp:<command>'),
]);
export type HarnessName = z.infer<typeof HarnessName>;

/** Which wire API the built-in `yoke` harness speaks. Defaults from the model name. */
export const ProviderKind = z.enum(['anthropic', 'openai-chat', 'openai-responses']);
export type ProviderKind = z.infer<typeof ProviderKind>;

export const AgentTools = z.strictObject({
  shell: z.boolean().default(true),
  files: z.boolean().default(true),
  web: z.boolean().default(false),
  mcp: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/),
      z.union([
        z.strictObject({ url: z.url() }),
        z.strictObject({ command: z.string().min(1), args: z.array(z.string()).default([]) }),
      ]),
    )
    .default({}),
});
export type AgentTools = z.infer<typeof AgentTools>;

const AgentName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_"');

/** A sub-agent this agent may delegate to. Inherits nothing implicitly except what is written here. */
export const SubAgentSpec = z.strictObject({
  harness: HarnessName,
  model: z.string().min(1).max(200).optional(),
  provider: ProviderKind.optional(),
  prompt: z.string().min(1).max(100_000),
  tools: AgentTools.optional(),
});
export type SubAgentSpec = z.infer<typeof SubAgentSpec>;

/** The most agent YAML a session may be started with, in characters: the API and the parser hold the same limit. */
export const MAX_AGENT_YAML = 256 * 1024;

/** An agent, as written in YAML (DESIGN §5). Unknown fields are errors. */
export const AgentSpec = z.strictObject({
  name: AgentName,
  description: z.string().max(2000).optional(),
  prompt: z.string().min(1).max(100_000),
  harness: HarnessName.default('yoke'),
  model: z.string().min(1).max(200).optional(),
  provider: ProviderKind.optional(),
  maxSteps: z.number().int().min(1).max(1000).default(50),
  tools: AgentTools.prefault({}),
  agents: z.record(AgentName, SubAgentSpec).default({}),
  policies: z.array(z.record(z.string(), z.unknown())).default([]),
  sandbox: z
    .strictObject({
      network: z.strictObject({ allow: z.array(z.string().min(1)).default([]) }).prefault({}),
      credentials: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
});
export type AgentSpec = z.infer<typeof AgentSpec>;
export type AgentSpecInput = z.input<typeof AgentSpec>;
