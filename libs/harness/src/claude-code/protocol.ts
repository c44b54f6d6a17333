import { z } from 'zod';

/**
 * The subset of Claude Code's stream-json wire (`claude -p --input-format stream-json --output-format stream-json
 * --verbose --include-partial-messages`, @anthropic-ai/claude-code 2.1.331) the adapters read. The Agent SDK yields the
 * same messages as objects. Loose objects throughout: the CLI adds fields often and must not break us.
 */

const Usage = z.looseObject({
  input_tokens: z.number().nonnegative().nullish(),
  output_tokens: z.number().nonnegative().nullish(),
  cache_creation_input_tokens: z.number().nonnegative().nullish(),
  cache_read_input_tokens: z.number().nonnegative().nullish(),
});
export type ClaudeUsage = z.infer<typeof Usage>;

export const ContentBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  thinking: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  content: z.unknown().optional(),
  is_error: z.boolean().nullish(),
});
export type ContentBlock = z.infer<typeof ContentBlock>;

/** The raw Anthropic stream events the CLI forwards with `--include-partial-messages`. */
export const StreamEvent = z.looseObject({
  type: z.string(),
  index: z.number().int().optional(),
  message: z
    .looseObject({ id: z.string().optional(), model: z.string().optional(), usage: Usage.optional() })
    .optional(),
  content_block: z.looseObject({ type: z.string() }).optional(),
  delta: z
    .looseObject({ type: z.string().optional(), text: z.string().optional(), thinking: z.string().optional() })
    .optional(),
  usage: Usage.nullish(),
});

export const ClaudeLine = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('system'),
    subtype: z.string().optional(),
    session_id: z.string().optional(),
    model: z.string().optional(),
    attempt: z.number().optional(),
    error: z.unknown().optional(),
  }),
  z.looseObject({
    type: z.literal('assistant'),
    parent_tool_use_id: z.string().nullish(),
    message: z.looseObject({
      id: z.string(),
      model: z.string().optional(),
      content: z.array(ContentBlock).default([]),
    }),
  }),
  z.looseObject({
    type: z.literal('user'),
    parent_tool_use_id: z.string().nullish(),
    message: z.looseObject({ content: z.union([z.string(), z.array(ContentBlock)]) }),
    tool_use_result: z.unknown().optional(),
  }),
  z.looseObject({
    type: z.literal('stream_event'),
    parent_tool_use_id: z.string().nullish(),
    api_message_id: z.string().optional(),
    event: StreamEvent,
  }),
  z.looseObject({
    type: z.literal('result'),
    subtype: z.string(),
    is_error: z.boolean().default(false),
    stop_reason: z.string().nullish(),
    terminal_reason: z.string().nullish(),
    result: z.string().optional(),
    errors: z.array(z.string()).optional(),
    api_error_status: z.number().nullish(),
    session_id: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('control_request'),
    request_id: z.string(),
    request: z.looseObject({ subtype: z.string() }),
  }),
  z.looseObject({
    type: z.literal('control_response'),
    response: z.looseObject({
      subtype: z.string(),
      request_id: z.string(),
      error: z.string().optional(),
      response: z.unknown().optional(),
    }),
  }),
  z.looseObject({ type: z.literal('control_cancel_request'), request_id: z.string() }),
]);
export type ClaudeLine = z.infer<typeof ClaudeLine>;

/** The lines the item mapping reads (what both the CLI and the Agent SDK yield). */
export type ClaudeMessage = Extract<ClaudeLine, { type: 'system' | 'assistant' | 'user' | 'stream_event' | 'result' }>;

export const CanUseToolRequest = z.looseObject({
  subtype: z.literal('can_use_tool'),
  tool_name: z.string(),
  input: z.record(z.string(), z.unknown()),
  tool_use_id: z.string(),
});

export const HookCallbackRequest = z.looseObject({
  subtype: z.literal('hook_callback'),
  callback_id: z.string(),
  input: z.looseObject({ hook_event_name: z.string(), tool_name: z.string().optional() }),
  tool_use_id: z.string().nullish(),
});
