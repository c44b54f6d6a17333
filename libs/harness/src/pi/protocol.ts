import { z } from 'zod';

/**
 * The subset of Pi's RPC mode (`pi --mode rpc`, @mariozechner/pi-coding-agent 0.73.1, docs/rpc.md) the adapter uses.
 * Loose objects: Pi adds fields (every `message_update` carries the whole partial message) and must not break us.
 */

const TextPart = z.object({ type: z.string(), text: z.string().optional() });
export const ToolResultBody = z.object({
  content: z.array(TextPart).default([]),
  details: z.record(z.string(), z.unknown()).nullish(),
});
export type ToolResultBody = z.infer<typeof ToolResultBody>;

const Usage = z.object({
  input: z.number().nonnegative().default(0),
  output: z.number().nonnegative().default(0),
  cacheRead: z.number().nonnegative().default(0),
  cacheWrite: z.number().nonnegative().default(0),
});

export const AgentMessage = z.object({
  role: z.string(),
  model: z.string().optional(),
  usage: Usage.optional(),
  stopReason: z.string().optional(),
  errorMessage: z.string().optional(),
});

const AssistantEvent = z.object({
  type: z.string(),
  contentIndex: z.number().int().optional(),
  delta: z.string().optional(),
  content: z.string().optional(),
});

const KnownLine = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('response'),
    id: z.string().optional(),
    command: z.string(),
    success: z.boolean(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('message_start'), message: AgentMessage }),
  z.object({ type: z.literal('message_end'), message: AgentMessage }),
  z.object({ type: z.literal('message_update'), assistantMessageEvent: AssistantEvent }),
  z.object({
    type: z.literal('tool_execution_start'),
    toolCallId: z.string(),
    toolName: z.string(),
    args: z.unknown(),
  }),
  z.object({ type: z.literal('tool_execution_update'), toolCallId: z.string(), partialResult: ToolResultBody }),
  z.object({
    type: z.literal('tool_execution_end'),
    toolCallId: z.string(),
    toolName: z.string(),
    result: ToolResultBody,
    isError: z.boolean(),
  }),
  z.object({ type: z.literal('agent_end') }),
  z.object({
    type: z.literal('extension_ui_request'),
    id: z.string(),
    method: z.string(),
    title: z.string().optional(),
    placeholder: z.string().optional(),
  }),
  z.object({ type: z.literal('extension_error'), extensionPath: z.string().optional(), error: z.string() }),
  z.object({ type: z.literal('auto_retry_start'), attempt: z.number(), errorMessage: z.string().optional() }),
]);
const KNOWN_LINE_TYPES = new Set(KnownLine.options.map((o) => o.shape.type.value as string));

/** Everything Pi writes on stdout, by `type`; other types are `other` (ignored), a malformed known type an error. */
export const PiLine = z.union([
  KnownLine,
  z.object({ type: z.string().refine((t) => !KNOWN_LINE_TYPES.has(t)) }).transform(() => ({ type: 'other' as const })),
]);
export type PiLine = z.infer<typeof PiLine>;

/** The JSON our gate extension puts in the permission dialog's placeholder. */
export const GateRequest = z.object({ toolCallId: z.string(), toolName: z.string(), input: z.unknown() });

/** Dialogs that wait for an answer; anything else in `extension_ui_request` is fire-and-forget. */
export const DIALOG_METHODS = new Set(['select', 'confirm', 'input', 'editor']);
