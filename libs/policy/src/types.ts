import type { Actor, PolicyLevel, ToolKind, Verdict } from '@yoke/protocol';
import type { StateUpdate } from './state';

export type { PolicyLevel, Verdict };

/** One policy as configured: its level, where it came from (`org:<name>`, `agent.yaml`…), and its spec. */
export interface PolicyEntry {
  level: PolicyLevel;
  spec: unknown;
  origin: string;
}

export type PolicyAction =
  | { type: 'prompt'; text: string }
  | { type: 'tool_call'; callId: string; tool: ToolKind; nativeTool: string; input: unknown }
  | { type: 'usage'; model: string; costUsd: number; inputTokens: number; outputTokens: number };

export interface DecideContext {
  actor: Actor | null;
  session: { id: string; workspace: string; ownerId?: string | null };
}

export interface PolicyReason {
  policy: string;
  level: PolicyLevel;
  verdict: Verdict;
  reason: string;
}

export interface Decision {
  /** DENY beats ASK beats ALLOW; an `allow` never overrides another policy's deny or ask. */
  verdict: Verdict;
  /**
   * Every non-allow reason, the explicit allows of `expr` policies, and the asks a session grant turned into allows
   * (`PolicyState.granted`), in level order (org, agent, session).
   */
  reasons: PolicyReason[];
  /** Names of the policies that produced the verdict. */
  policies: string[];
  /** Stable keys of what is asked; once confirmed (`confirmUpdate`) a key is not asked again. */
  askKeys: string[];
  /**
   * On an ask about a tool call: the grant an "always allow in this session" answer adds (`grantUpdate`), or null when
   * that answer is not offered (a policy that asks has `allow_always: false` or never offers it, or the action cannot
   * be granted: see `grantKey`).
   */
  sessionGrant: string | null;
  /**
   * What to apply to the state if the action proceeds (allowed, or asked and approved). For `usage` actions the
   * runner applies it whatever the verdict: the model call has already happened. Empty for denied prompts and calls.
   */
  stateUpdate: StateUpdate;
}
