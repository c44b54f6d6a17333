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
import { errorMessageOfJson, parseJson, postSse } from './sse';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const PROVIDER = 'openai-chat';

type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
    }
  | { role: 'tool'; tool_call_id: string; content: string };

export function toolArgumentsText(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input ?? {});
}

/** Neutral transcript -> Chat Completions `messages` (system prompt first). */
export function toChatMessages(system: string, messages: ModelMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [{ role: 'system', content: system }];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.text });
    else if (m.role === 'tool_result') out.push({ role: 'tool', tool_call_id: m.callId, content: m.output });
    else if (m.text || m.toolCalls.length > 0) {
      out.push({
        role: 'assistant',
        content: m.text || null,
        ...(m.toolCalls.length > 0
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: toolArgumentsText(c.input) },
              })),
            }
          : {}),
      });
    }
  }
  return out;
}

function stopReasonOf(raw: unknown, hasToolCalls: boolean): ModelStopReason {
  if (raw === 'tool_calls' || raw === 'function_call' || hasToolCalls) return 'tool_use';
  if (raw === 'length') return 'max_tokens';
  if (raw === 'content_filter') return 'refusal';
  return 'end_turn';
}

interface PendingCall {
  id: string;
  name: string;
  args: string;
}

/** Streaming client for OpenAI-compatible Chat Completions (`POST {base}/chat/completions`, SSE). */
export class OpenAiChatClient implements ModelClient {
  readonly provider = PROVIDER;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<ModelEvent> {
    const body = {
      model: request.model,
      messages: toChatMessages(request.system, request.messages),
      ...(request.tools.length > 0
        ? {
            tools: request.tools.map((t) => ({
              type: 'function',
              function: { name: t.name, description: t.description, parameters: t.parameters },
            })),
          }
        : {}),
      ...(request.maxOutputTokens ? { max_completion_tokens: request.maxOutputTokens } : {}),
      stream: true,
      stream_options: { include_usage: true },
    };
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
    const url = `${this.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const events = await postSse(PROVIDER, url, headers, body, signal);

    const usage: ModelUsage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
    const calls = new Map<number, PendingCall>();
    const textId = randomUUID();
    let text = '';
    let finishReason: unknown = null;
    let sawDone = false;

    for await (const sse of events) {
      if (sse.data.trim() === '[DONE]') {
        sawDone = true;
        break;
      }
      const chunk = parseJson(PROVIDER, sse.data);
      if (!isRecord(chunk)) continue;
      if (chunk.error !== undefined) {
        throw new ModelProviderError(PROVIDER, null, errorMessageOfJson(chunk) ?? 'unknown error');
      }
      if (isRecord(chunk.usage)) {
        usage.inputTokens = num(chunk.usage.prompt_tokens);
        usage.outputTokens = num(chunk.usage.completion_tokens);
        const details = chunk.usage.prompt_tokens_details;
        usage.cachedTokens = isRecord(details) ? num(details.cached_tokens) : 0;
      }
      const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as unknown) : undefined;
      if (!isRecord(choice)) continue;
      if (choice.finish_reason) finishReason = choice.finish_reason;
      const delta = isRecord(choice.delta) ? choice.delta : {};
      if (typeof delta.content === 'string' && delta.content !== '') {
        text += delta.content;
        yield { type: 'text_delta', blockId: textId, text: delta.content };
      }
      if (Array.isArray(delta.tool_calls)) {
        for (const raw of delta.tool_calls as unknown[]) {
          if (!isRecord(raw)) continue;
          const index = num(raw.index);
          const fn = isRecord(raw.function) ? raw.function : {};
          const call = calls.get(index) ?? { id: '', name: '', args: '' };
          if (typeof raw.id === 'string' && raw.id) call.id = raw.id;
          if (typeof fn.name === 'string' && fn.name && !call.name) call.name = fn.name;
          if (typeof fn.arguments === 'string') call.args += fn.arguments;
          calls.set(index, call);
        }
      }
    }
    if (!sawDone && finishReason === null) throw new ModelProviderError(PROVIDER, null, 'stream ended unexpectedly');

    if (text) yield { type: 'text_done', blockId: textId, text };
    const ordered = [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    for (const c of ordered) {
      yield {
        type: 'tool_call',
        call: { id: c.id || `call_${randomUUID()}`, name: c.name, input: parseToolArguments(c.args) },
      };
    }
    yield { type: 'stop', stopReason: stopReasonOf(finishReason, ordered.length > 0), usage };
  }
}
