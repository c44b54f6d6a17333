import { z } from 'zod';

/** A tool call the model asked for. `input` is the parsed JSON arguments (or the raw text when it did not parse). */
export const ModelToolCall = z.object({
  id: z.string().min(1),
  name: z.string(),
  input: z.unknown(),
});
export type ModelToolCall = z.infer<typeof ModelToolCall>;

/**
 * The neutral transcript every provider client translates to and from its wire format. Persisted as JSON in the
 * harness state dir, so it is also a zod schema.
 */
export const ModelMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), text: z.string() }),
  z.object({ role: z.literal('assistant'), text: z.string(), toolCalls: z.array(ModelToolCall) }),
  z.object({
    role: z.literal('tool_result'),
    callId: z.string().min(1),
    toolName: z.string(),
    output: z.string(),
    isError: z.boolean(),
  }),
]);
export type ModelMessage = z.infer<typeof ModelMessage>;

export interface ModelToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object. */
  parameters: Record<string, unknown>;
}

export interface ModelRequest {
  model: string;
  system: string;
  messages: ModelMessage[];
  tools: ModelToolSpec[];
  maxOutputTokens?: number;
}

export interface ModelUsage {
  /** Every input token, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  cachedTokens: number;
}

export type ModelStopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal';

/** What a streaming model call yields, in order. Exactly one `stop` ends a successful stream. */
export type ModelEvent =
  | { type: 'text_delta'; blockId: string; text: string }
  | { type: 'text_done'; blockId: string; text: string }
  | { type: 'tool_call'; call: ModelToolCall }
  | { type: 'stop'; stopReason: ModelStopReason; usage: ModelUsage };

export interface ModelClient {
  readonly provider: string;
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelEvent>;
}

/** A provider answered with a non-2xx status or sent an error event mid-stream. */
export class ModelProviderError extends Error {
  constructor(
    readonly provider: string,
    readonly status: number | null,
    readonly providerMessage: string,
  ) {
    super(`${provider} API error${status === null ? '' : ` (HTTP ${status})`}: ${providerMessage}`);
    this.name = 'ModelProviderError';
  }
}

export const ZERO_USAGE: ModelUsage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

/** Parses tool-call arguments; returns the raw text when it is not valid JSON so the tool can report it. */
export function parseToolArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
}
