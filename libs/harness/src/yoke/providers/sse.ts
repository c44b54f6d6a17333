import { isRecord, ModelProviderError } from '../model';

export interface SseEvent {
  event: string;
  data: string;
}

/** Reads a `text/event-stream` body into events. Cancels the body when the consumer stops early. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // Lenient at the end: an unterminated last line or event still counts (some servers omit the final blank line).
      if (done && buffer !== '') buffer += '\n';
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
        } else if (line.startsWith(':')) {
          continue;
        } else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      }
      if (done) break;
    }
    if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** POSTs a JSON body and returns the SSE stream; a non-2xx answer becomes a `ModelProviderError`. */
export async function postSse(
  provider: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
): Promise<AsyncGenerator<SseEvent>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw e;
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new ModelProviderError(provider, null, `cannot reach ${url}: ${cause ?? (e as Error).message}`);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new ModelProviderError(provider, response.status, errorMessageOf(text) || response.statusText);
  }
  if (!response.body) throw new ModelProviderError(provider, response.status, 'empty response body');
  return readSse(response.body);
}

/** The human message inside a provider's JSON error body (`{error:{message}}` or `{message}`), else the raw text. */
export function errorMessageOf(text: string): string {
  try {
    const json = JSON.parse(text) as unknown;
    const message = errorMessageOfJson(json);
    if (message) return message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 2000);
}

export function errorMessageOfJson(json: unknown): string | undefined {
  if (!isRecord(json)) return undefined;
  if (isRecord(json.error) && typeof json.error.message === 'string') return json.error.message;
  if (typeof json.message === 'string') return json.message;
  if (typeof json.error === 'string') return json.error;
  return undefined;
}

export function parseJson(provider: string, data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new ModelProviderError(provider, null, `malformed stream event: ${data.slice(0, 200)}`);
  }
}
