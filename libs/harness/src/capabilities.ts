/**
 * What a harness adapter supports. Declared by each adapter; `test/e2e/harness-matrix.e2e-spec.ts` probes the real
 * harness against the fake model and fails when what it observes differs from the declaration.
 */
export interface HarnessCapabilities {
  /** Text arrives as `agent_message_delta`s before the final `agent_message`. */
  streaming: boolean;
  /** Tool calls are reported as `tool_call` items with a canonical kind. */
  toolCalls: boolean;
  /** A `deny` from the permission hook stops the call (no side effect) and the agent hears the refusal. */
  deny: boolean;
  /** The harness waits for the permission hook however long it takes (a human can be asked). */
  ask: boolean;
  /** `usage` items carry a cost per model call. */
  cost: boolean;
  /** `cancel()` stops the running turn and its processes; the next turn works. */
  interrupt: boolean;
  /** Input can be added to a running turn. */
  steer: boolean;
  /** A new session on the same state directory continues the conversation. */
  resume: boolean;
  /** The session's `model` reaches the model request. */
  modelOverride: boolean;
}

export const HARNESS_CAPABILITY_NAMES = [
  'streaming',
  'toolCalls',
  'deny',
  'ask',
  'cost',
  'interrupt',
  'steer',
  'resume',
  'modelOverride',
] as const satisfies readonly (keyof HarnessCapabilities)[];
