import { z } from 'zod';

/**
 * The subset of `codex app-server` JSON-RPC (codex 0.169.0, from `codex app-server generate-json-schema`) that the
 * adapter uses. Objects are loose on purpose: codex adds fields often, and unknown fields must not break a session.
 */

export const RpcId = z.union([z.string(), z.number()]);

/** Any line codex writes: a response (id + result|error), a server request (id + method) or a notification. */
export const RpcMessage = z.object({
  id: RpcId.optional(),
  method: z.string().optional(),
  params: z.unknown().optional(),
  result: z.unknown().optional(),
  error: z.object({ code: z.number().optional(), message: z.string() }).optional(),
});
export type RpcMessage = z.infer<typeof RpcMessage>;

export const ThreadStartResponse = z.object({
  thread: z.object({ id: z.string() }),
  model: z.string(),
});
export type ThreadStartResponse = z.infer<typeof ThreadStartResponse>;

export const TurnRef = z.object({ turn: z.object({ id: z.string() }) });

const PatchChangeKind = z.object({ type: z.enum(['add', 'delete', 'update']), move_path: z.string().nullish() });
export const FileUpdateChange = z.object({ path: z.string(), kind: PatchChangeKind, diff: z.string() });
export type FileUpdateChange = z.infer<typeof FileUpdateChange>;

const CommandExecutionItem = z.object({
  type: z.literal('commandExecution'),
  id: z.string(),
  command: z.string(),
  cwd: z.string(),
  status: z.enum(['inProgress', 'completed', 'failed', 'declined']),
  aggregatedOutput: z.string().nullish(),
  exitCode: z.number().int().nullish(),
  commandActions: z.array(z.object({ type: z.string(), command: z.string() })).default([]),
});
export type CommandExecutionItem = z.infer<typeof CommandExecutionItem>;

const FileChangeItem = z.object({
  type: z.literal('fileChange'),
  id: z.string(),
  changes: z.array(FileUpdateChange),
  status: z.enum(['inProgress', 'completed', 'failed', 'declined']),
});
export type FileChangeItem = z.infer<typeof FileChangeItem>;

const McpToolCallItem = z.object({
  type: z.literal('mcpToolCall'),
  id: z.string(),
  server: z.string(),
  tool: z.string(),
  arguments: z.unknown(),
  status: z.string(),
  result: z.object({ content: z.array(z.unknown()) }).nullish(),
  error: z.object({ message: z.string() }).nullish(),
});

const WebSearchItem = z.object({ type: z.literal('webSearch'), id: z.string(), query: z.string() });
const AgentMessageItem = z.object({ type: z.literal('agentMessage'), id: z.string(), text: z.string() });
const ReasoningItem = z.object({
  type: z.literal('reasoning'),
  id: z.string(),
  summary: z.array(z.string()).default([]),
  content: z.array(z.string()).default([]),
});

const KnownItem = z.discriminatedUnion('type', [
  CommandExecutionItem,
  FileChangeItem,
  McpToolCallItem,
  WebSearchItem,
  AgentMessageItem,
  ReasoningItem,
]);
const KNOWN_ITEM_TYPES = new Set(KnownItem.options.map((o) => o.shape.type.value as string));

/**
 * The thread items the adapter maps; anything else (user messages, plans, images…) parses as `other`. A known item
 * that does not match its schema is an error, never silently `other`: a tool call must not go unseen.
 */
export const ThreadItem = z.union([
  KnownItem,
  z
    .object({ type: z.string().refine((t) => !KNOWN_ITEM_TYPES.has(t)), id: z.string() })
    .transform((item) => ({ ...item, type: 'other' as const })),
]);
export type ThreadItem = z.infer<typeof ThreadItem>;

export const ItemNotification = z.object({ turnId: z.string(), item: ThreadItem });
export const DeltaNotification = z.object({ turnId: z.string(), itemId: z.string(), delta: z.string() });

const TokenUsageBreakdown = z.object({
  inputTokens: z.number().int().nonnegative(),
  cachedInputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export const TokenUsageNotification = z.object({
  turnId: z.string(),
  tokenUsage: z.object({ last: TokenUsageBreakdown }),
});

const TurnError = z.object({ message: z.string(), additionalDetails: z.string().nullish() });
export const TurnCompletedNotification = z.object({
  turn: z.object({
    id: z.string(),
    status: z.enum(['completed', 'interrupted', 'failed', 'inProgress']),
    error: TurnError.nullish(),
  }),
});
export const ErrorNotification = z.object({ turnId: z.string(), error: TurnError, willRetry: z.boolean() });

export const CommandApprovalParams = z.object({
  turnId: z.string(),
  itemId: z.string(),
  command: z.string().nullish(),
  cwd: z.string().nullish(),
});
export const FileChangeApprovalParams = z.object({ turnId: z.string(), itemId: z.string() });

/** Both approval requests take `{ decision }`; the adapter only ever sends these three. */
export type ApprovalDecision = 'accept' | 'decline' | 'cancel';
