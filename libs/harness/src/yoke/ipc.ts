import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { Actor, AgentSpec, ContentPart, Delta, ItemBody, ToolKind, TurnStopReason } from '@yoke/protocol';
import { z } from 'zod';

/**
 * The newline-delimited JSON protocol between the `yoke` adapter (parent) and its agent process (child), over the
 * child's stdin/stdout. Both sides parse every line with these schemas.
 */
export const ChildStartOptions = z.object({
  sessionId: z.string().min(1),
  agent: AgentSpec,
  model: z.string().nullable(),
  workspace: z.string().min(1),
  stateDir: z.string().min(1),
  provider: z.object({
    anthropicBaseUrl: z.string().optional(),
    anthropicApiKey: z.string().optional(),
    openaiBaseUrl: z.string().optional(),
    openaiApiKey: z.string().optional(),
    geminiBaseUrl: z.string().optional(),
    geminiApiKey: z.string().optional(),
  }),
  shellTimeoutMs: z.number().int().positive().optional(),
});
export type ChildStartOptions = z.infer<typeof ChildStartOptions>;

const PermissionDecisionSchema = z.discriminatedUnion('behavior', [
  z.object({ behavior: z.literal('allow') }),
  z.object({ behavior: z.literal('deny'), reason: z.string() }),
]);

const DelegateResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), sessionId: z.string(), text: z.string() }),
  z.object({ ok: z.literal(false), sessionId: z.string().optional(), error: z.string() }),
]);

export const ParentMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), options: ChildStartOptions }),
  z.object({
    type: z.literal('turn'),
    input: z.object({ turnId: z.string().min(1), content: z.array(ContentPart), actor: Actor }),
  }),
  z.object({ type: z.literal('cancel') }),
  /** A message for the running turn; answered by `steer_result`. */
  z.object({
    type: z.literal('steer'),
    id: z.string(),
    input: z.object({ turnId: z.string().min(1), content: z.array(ContentPart), actor: Actor }),
  }),
  z.object({ type: z.literal('permission_result'), id: z.string(), decision: PermissionDecisionSchema }),
  z.object({ type: z.literal('delegate_result'), id: z.string(), result: DelegateResultSchema }),
]);
export type ParentMessage = z.infer<typeof ParentMessage>;

export const HarnessEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('item'), item: ItemBody }),
  z.object({ kind: z.literal('delta'), delta: Delta }),
]);

export const ChildMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('start_failed'), message: z.string() }),
  z.object({ type: z.literal('event'), event: HarnessEventSchema }),
  z.object({
    type: z.literal('permission'),
    id: z.string(),
    request: z.object({ callId: z.string(), tool: ToolKind, nativeTool: z.string(), input: z.unknown() }),
  }),
  z.object({
    type: z.literal('delegate'),
    id: z.string(),
    request: z.object({ callId: z.string(), agent: z.string(), prompt: z.string() }),
  }),
  /** Whether the running turn took the `steer` message `id` (sent before any event of the step that reads it). */
  z.object({ type: z.literal('steer_result'), id: z.string(), accepted: z.boolean() }),
  z.object({ type: z.literal('turn_done'), outcome: z.object({ stopReason: TurnStopReason }) }),
  z.object({ type: z.literal('turn_error'), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof ChildMessage>;

export function writeMessage(stream: Writable, message: ParentMessage | ChildMessage): void {
  if (stream.writable) stream.write(`${JSON.stringify(message)}\n`);
}

/** Calls `onMessage` with each line that parses with `schema`, `onInvalid` with the others. */
export function readMessages<T>(
  stream: Readable,
  schema: z.ZodType<T>,
  onMessage: (message: T) => void,
  onInvalid: (line: string, error: string) => void,
): void {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      onInvalid(line, 'not JSON');
      return;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) onMessage(parsed.data);
    else onInvalid(line, z.prettifyError(parsed.error));
  });
}
