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
import { toolArgumentsText } from './openai-chat';
import { errorMessageOfJson, parseJson, postSse } from './sse';

const PROVIDER = 'openai-responses';

type ResponsesInputItem =
  | { role: 'user'; content: { type: 'input_text'; text: string }[] }
  | { role: 'assistant'; content: string }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

/** Neutral transcript -> Responses API `input` items (stateless: `store: false`, no previous_response_id). */
export function toResponsesInput(messages: ModelMessage[]): ResponsesInputItem[] {
  const out: ResponsesInputItem[] = [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: [{ type: 'input_text', text: m.text }] });
    else if (m.role === 'tool_result') out.push({ type: 'function_call_output', call_id: m.callId, output: m.output });
    else {
      if (m.text) out.push({ role: 'assistant', content: m.text });
      for (const c of m.toolCalls) {
        out.push({ type: 'function_call', call_id: c.id, name: c.name, arguments: toolArgumentsText(c.input) });
      }
    }
  }
  return out;
}

interface PendingCall {
  callId: string;
  name: string;
  args: string;
}

/** Streaming client for the OpenAI Responses API (`POST {base}/responses`, SSE). */
export class OpenAiResponsesClient implements ModelClient {
  readonly provider = PROVIDER;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<ModelEvent> {
    const body = {
      model: request.model,
      instructions: request.system,
      input: toResponsesInput(request.messages),
      ...(request.tools.length > 0
        ? {
            tools: request.tools.map((t) => ({
              type: 'function',
              name: t.name,
              description: t.description,
              parameters: t.parameters,
              strict: false,
            })),
          }
        : {}),
      ...(request.maxOutputTokens ? { max_output_tokens: request.maxOutputTokens } : {}),
      store: false,
      stream: true,
    };
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
    const url = `${this.baseUrl.replace(/\/+$/, '')}/responses`;
    const events = await postSse(PROVIDER, url, headers, body, signal);

    const texts = new Map<string, string>();
    const calls = new Map<string, PendingCall>();
    let sawToolCall = false;
    let refused = false;

    for await (const sse of events) {
      const data = parseJson(PROVIDER, sse.data);
      if (!isRecord(data)) continue;
      const itemId = typeof data.item_id === 'string' ? data.item_id : '';
      const blockId = `${itemId}:${num(data.content_index)}`;
      switch (data.type) {
        case 'response.output_item.added': {
          const item = isRecord(data.item) ? data.item : {};
          if (item.type === 'function_call') {
            const args = typeof item.arguments === 'string' ? item.arguments : '';
            calls.set(String(item.id), { callId: String(item.call_id), name: String(item.name), args });
          }
          break;
        }
        case 'response.output_text.delta':
        case 'response.refusal.delta':
          if (typeof data.delta === 'string' && data.delta !== '') {
            if (data.type === 'response.refusal.delta') refused = true;
            texts.set(blockId, (texts.get(blockId) ?? '') + data.delta);
            yield { type: 'text_delta', blockId, text: data.delta };
          }
          break;
        case 'response.output_text.done':
        case 'response.refusal.done': {
          const full = typeof data.text === 'string' ? data.text : typeof data.refusal === 'string' ? data.refusal : '';
          const text = full || texts.get(blockId) || '';
          texts.delete(blockId);
          if (text) yield { type: 'text_done', blockId, text };
          break;
        }
        case 'response.function_call_arguments.delta': {
          const call = calls.get(itemId);
          if (call && typeof data.delta === 'string') call.args += data.delta;
          break;
        }
        case 'response.function_call_arguments.done': {
          const call = calls.get(itemId);
          if (call && typeof data.arguments === 'string') call.args = data.arguments;
          break;
        }
        case 'response.output_item.done': {
          const item = isRecord(data.item) ? data.item : {};
          if (item.type !== 'function_call') break;
          const pending = calls.get(String(item.id));
          calls.delete(String(item.id));
          const args = typeof item.arguments === 'string' ? item.arguments : (pending?.args ?? '');
          const id = typeof item.call_id === 'string' ? item.call_id : (pending?.callId ?? String(item.id));
          const name = typeof item.name === 'string' ? item.name : (pending?.name ?? '');
          sawToolCall = true;
          yield { type: 'tool_call', call: { id, name, input: parseToolArguments(args) } };
          break;
        }
        case 'response.completed':
        case 'response.incomplete': {
          const response = isRecord(data.response) ? data.response : {};
          const incomplete = isRecord(response.incomplete_details) ? response.incomplete_details.reason : undefined;
          let stopReason: ModelStopReason = 'end_turn';
          if (sawToolCall) stopReason = 'tool_use';
          else if (refused || incomplete === 'content_filter') stopReason = 'refusal';
          else if (incomplete === 'max_output_tokens') stopReason = 'max_tokens';
          yield { type: 'stop', stopReason, usage: usageOf(response.usage) };
          return;
        }
        case 'response.failed': {
          const response = isRecord(data.response) ? data.response : {};
          throw new ModelProviderError(PROVIDER, null, errorMessageOfJson(response) ?? 'response failed');
        }
        case 'error':
          throw new ModelProviderError(PROVIDER, null, errorMessageOfJson(data) ?? 'unknown error');
        default:
          break;
      }
    }
    throw new ModelProviderError(PROVIDER, null, 'stream ended before response.completed');
  }
}

function usageOf(raw: unknown): ModelUsage {
  if (!isRecord(raw)) return { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
  const details = isRecord(raw.input_tokens_details) ? raw.input_tokens_details : {};
  return {
    inputTokens: num(raw.input_tokens),
    outputTokens: num(raw.output_tokens),
    cachedTokens: num(details.cached_tokens),
  };
}
