import type { Actor, AgentSpec, ContentPart, Delta, ItemBody, ToolKind, TurnStopReason } from '@yoke/protocol';
import type { z } from 'zod';
import type { HarnessCapabilities } from './capabilities';
import type { ProcessLauncher } from './launch';

/**
 * Where and how a harness reaches its model. Filled from ANTHROPIC_* / OPENAI_* / GEMINI_API_KEY and
 * GOOGLE_GEMINI_BASE_URL (Gemini's base URL has no version path: the client adds `/v1beta`).
 */
export interface ProviderEnv {
  anthropicBaseUrl?: string;
  anthropicApiKey?: string;
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  geminiBaseUrl?: string;
  geminiApiKey?: string;
}

/** Asked before every tool call; the harness cannot run the tool without an `allow`. */
export interface PermissionRequest {
  callId: string;
  tool: ToolKind;
  nativeTool: string;
  input: unknown;
}
export type PermissionDecision = { behavior: 'allow' } | { behavior: 'deny'; reason: string };
export type PermissionHook = (request: PermissionRequest) => Promise<PermissionDecision>;

/**
 * What a harness reports while a turn runs. The runner stamps `seq`, `createdAt` and `actor` and owns
 * `turn_started` / `user_message` / `turn_completed` / `turn_failed`; adapters emit everything in between.
 */
export type HarnessEvent = { kind: 'item'; item: ItemBody } | { kind: 'delta'; delta: Delta };

/** A `delegate` tool call that the permission hook allowed: run the parent's sub-agent `agent` on `prompt`. */
export interface DelegateRequest {
  callId: string;
  agent: string;
  prompt: string;
}
/** The child session and its final answer (`ok`), or why it failed. */
export type DelegateResult =
  { ok: true; sessionId: string; text: string } | { ok: false; sessionId?: string; error: string };
export type DelegateHook = (request: DelegateRequest) => Promise<DelegateResult>;

export interface HarnessStartOptions {
  sessionId: string;
  agent: AgentSpec;
  /** Model override (session or CLI); falls back to the agent's `model`. */
  model: string | null;
  /** Absolute path of the session workspace; tools act only inside it. */
  workspace: string;
  /** A private directory for the harness's own state (transcript, config); survives runner restarts. */
  stateDir: string;
  provider: ProviderEnv;
  permission: PermissionHook;
  onEvent: (event: HarnessEvent) => void;
  /** How the harness's processes start; the runner's is sandboxed (Omnibox). Default: `directLauncher`. */
  launch?: ProcessLauncher;
  /** Runs a sub-agent from `agent.agents` as a child session (the `delegate` tool); absent: delegation fails. */
  delegate?: DelegateHook;
}

export interface TurnInput {
  turnId: string;
  content: ContentPart[];
  actor: Actor;
}

export interface TurnOutcome {
  stopReason: z.infer<typeof TurnStopReason>;
}

export interface HarnessSession {
  /** Runs one turn to its end. Rejects (with a message fit for `turn_failed`) when the turn fails. */
  runTurn(input: TurnInput): Promise<TurnOutcome>;
  /** Interrupts the running turn, if any; `runTurn` then resolves with `cancelled`. */
  cancel(): void;
  /**
   * Adds a message to the running turn (`input.turnId`): the model reads it at its next call in that turn, and the
   * turn does not end before it has. Resolves true once the harness has taken the message; false when no turn is
   * running, the turn is already ending, or the harness refuses it (the caller then runs it as a turn of its own).
   * Absent: the harness cannot add input to a running turn.
   */
  steer?(input: TurnInput): Promise<boolean>;
  /** Ends the session and its whole process tree. */
  close(): Promise<void>;
}

export interface HarnessAdapter {
  readonly name: string;
  /** What this harness supports; probed by the capability-matrix suite. */
  readonly capabilities?: HarnessCapabilities;
  start(options: HarnessStartOptions): Promise<HarnessSession>;
}
