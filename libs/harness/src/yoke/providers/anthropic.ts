import { randomUUID } from 'node:crypto';
import {
  isRecord,
  ModelProviderError,
  num,
  parseToolArguments,
  type ModelClient,
  type ModelEvent,
  type ModelMessage,
  type ModelRequest,
  type ModelStopReason,
  type ModelUsage,
} from '../model';
import { parseJson, postSse } from './sse';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
const PROVIDER = 'anthropic';

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error: boolean };
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

const isToolResults = (m: AnthropicMessage): boolean => m.content.some((b) => b.type === 'tool_result');

/**
 * Neutral transcript -> Messages API `messages`. Tool results ride in user turns; consecutive tool results share
 * one turn and consecutive user texts share one turn, but a user prompt following tool results (after a cancelled or
 * max-steps turn) stays its own turn: the API joins consecutive same-role turns itself, and keeping them apart lets
 * a proxy or test double still tell a prompt from tool output.
 */
export function toAnthropicMessages(messages: ModelMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  const push = (role: AnthropicMessage['role'], blocks: AnthropicBlock[]): void => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    const sameKind = last && last.role === role && isToolResults(last) === (blocks[0].type === 'tool_result');
    if (last && sameKind) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'user') push('user', [{ type: 'text', text: m.text || '(empty message)' }]);
    else if (m.role === 'tool_result') {
      push('user', [{ type: 'tool_result', tool_use_id: m.callId, content: m.output, is_error: m.isError }]);
    } else {
      const blocks: AnthropicBlock[] = m.text ? [{ type: 'text', text: m.text }] : [];
      for (const c of m.toolCalls) {
        blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: isRecord(c.input) ? c.input : {} });
      }
      push('assistant', blocks);
    }
  }
  return out;
}

function stopReasonOf(raw: unknown): ModelStopReason {
  switch (raw) {
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
      return 'max_tokens';
    case 'refusal':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

type OpenBlock = { kind: 'text'; id: string; text: string } | { kind: 'tool'; id: string; name: string; json: string };

/** Streaming client for the Anthropic Messages API (`POST {base}/v1/messages`, SSE). */
export class AnthropicClient implements ModelClient {
  readonly provider = PROVIDER;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<ModelEvent> {
    const body = {
      model: request.model,
      max_tokens: request.maxOutputTokens ?? 8192,
      system: request.system,
      messages: toAnthropicMessages(request.messages),
      ...(request.tools.length > 0
        ? {
            tools: request.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters })),
          }
        : {}),
      stream: true,
    };
    const headers: Record<string, string> = { 'anthropic-version': '2023-06-01' };
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    const url = `${this.baseUrl.replace(/\/+$/, '')}/v1/messages`;
    const events = await postSse(PROVIDER, url, headers, body, signal);

    const usage: ModelUsage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
    const blocks = new Map<number, OpenBlock>();
    let stopReason: ModelStopReason = 'end_turn';
    const addUsage = (u: unknown): void => {
      if (!isRecord(u)) return;
      if (u.input_tokens !== undefined) {
        const cacheRead = num(u.cache_read_input_tokens);
        usage.inputTokens = num(u.input_tokens) + cacheRead + num(u.cache_creation_input_tokens);
        usage.cachedTokens = cacheRead;
      }
      if (u.output_tokens !== undefined) usage.outputTokens = num(u.output_tokens);
    };

    for await (const sse of events) {
      const data = parseJson(PROVIDER, sse.data);
      if (!isRecord(data)) continue;
      switch (data.type) {
        case 'message_start':
          if (isRecord(data.message)) addUsage(data.message.usage);
          break;
        case 'content_block_start': {
          const block = isRecord(data.content_block) ? data.content_block : {};
          if (block.type === 'text') {
            const text = typeof block.text === 'string' ? block.text : '';
            blocks.set(num(data.index), { kind: 'text', id: randomUUID(), text });
          } else if (block.type === 'tool_use') {
            const initial =
              isRecord(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '';
            blocks.set(num(data.index), {
              kind: 'tool',
              id: String(block.id),
              name: String(block.name),
              json: initial,
            });
          }
          break;
        }
        case 'content_block_delta': {
          const open = blocks.get(num(data.index));
          const delta = isRecord(data.delta) ? data.delta : {};
          if (open?.kind === 'text' && delta.type === 'text_delta' && typeof delta.text === 'string') {
            open.text += delta.text;
            yield { type: 'text_delta', blockId: open.id, text: delta.text };
          } else if (
            open?.kind === 'tool' &&
            delta.type === 'input_json_delta' &&
            typeof delta.partial_json === 'string'
          ) {
            open.json += delta.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const open = blocks.get(num(data.index));
          blocks.delete(num(data.index));
          if (open?.kind === 'text') yield { type: 'text_done', blockId: open.id, text: open.text };
          if (open?.kind === 'tool') {
            yield { type: 'tool_call', call: { id: open.id, name: open.name, input: parseToolArguments(open.json) } };
          }
          break;
        }
        case 'message_delta':
          if (isRecord(data.delta) && data.delta.stop_reason) stopReason = stopReasonOf(data.delta.stop_reason);
          addUsage(data.usage);
          break;
        case 'message_stop':
          yield { type: 'stop', stopReason, usage };
          return;
        case 'error': {
          const err = isRecord(data.error) ? data.error : {};
          const message = typeof err.message === 'string' ? err.message : 'unknown error';
          throw new ModelProviderError(
            PROVIDER,
            null,
            typeof err.type === 'string' ? `${err.type}: ${message}` : message,
          );
        }
        default:
          break;
      }
    }
    throw new ModelProviderError(PROVIDER, null, 'stream ended before message_stop');
  }
}
