import type { IncomingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import {
  constants as zlibConstants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
} from 'node:zlib';
import type { MeteredApi, MeteredProvider } from '@yoke/protocol';

export type { MeteredApi, MeteredProvider };

/**
 * One model API call as the provider itself reported it in its response, read at the egress proxy. Tokens are split
 * by the rate they are billed at, so a price is each count times its own rate:
 * - `inputTokens`: billed at the plain input rate (cache reads and cache writes are not in it);
 * - `outputTokens`: reasoning included; `reasoningTokens` says how many of them were reasoning (informational).
 */
export interface MeteredCall {
  host: string;
  port: number;
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  provider: MeteredProvider;
  api: MeteredApi;
  /** From the response, else the request's `model`; empty when neither said. */
  model: string;
  /** `request-id` (Anthropic) or `x-request-id` (OpenAI) header, else the message or response id. */
  requestId?: string;
  /** Server-sent events rather than one JSON body. */
  streamed: boolean;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/** What kind of model call a request is. */
export interface ModelCallKind {
  provider: MeteredProvider;
  api: MeteredApi;
  /** The model named by the request's path (Gemini: `…/models/gemini-2.5-pro:generateContent`). */
  model?: string;
}

/** A request as the proxy forwards it. */
export interface ModelCallTarget {
  host: string;
  port: number;
  method: string;
  /** The request target, query string included or not. */
  path: string;
}

/** A JSON body is kept up to this size to be parsed at its end; a bigger one is not metered. */
export const MAX_METERED_JSON_BYTES = 8 * 1024 * 1024;
/** One server-sent event's data is kept up to this size; a bigger event is skipped. */
export const MAX_METERED_EVENT_BYTES = 8 * 1024 * 1024;
/** The request body is kept up to this size, to read its `model` when the response names none. */
export const MAX_REQUEST_MODEL_BYTES = 1024 * 1024;

const OPENAI_HOST = 'api.openai.com';
/** The item schema's bounds (libs/protocol items.ts `metered_usage`). */
const MAX_MODEL_CHARS = 200;
const MAX_REQUEST_ID_CHARS = 300;

/** Gemini's `…/models/{model}:generateContent` and `:streamGenerateContent` (the model may be URL-encoded). */
const GEMINI_PATH = /\/models\/([^/:]+):(?:stream)?generateContent$/i;

/**
 * The provider and wire API of a request, or null when it is not a metered model call. Only POSTs are: Anthropic
 * Messages (`…/messages`), OpenAI Responses (`…/responses`) and Chat Completions (`…/chat/completions`), and Gemini
 * `generateContent` / `streamGenerateContent`; Responses and Chat Completions count as `openai` on api.openai.com
 * and `openai_compatible` elsewhere. Token counting (`…/messages/count_tokens`, Gemini's `:countTokens`), model
 * lists and the rest are not metered.
 */
export function classifyModelCall(method: string, host: string, path: string): ModelCallKind | null {
  if (method.toUpperCase() !== 'POST') return null;
  const p = pathOnly(path);
  if (p.endsWith('/messages')) return { provider: 'anthropic', api: 'messages' };
  const gemini = GEMINI_PATH.exec(p);
  if (gemini) return { provider: 'google', api: 'generate_content', model: decodeModel(gemini[1]) };
  const provider = host.toLowerCase() === OPENAI_HOST ? 'openai' : 'openai_compatible';
  if (p.endsWith('/responses')) return { provider, api: 'responses' };
  if (p.endsWith('/chat/completions')) return { provider, api: 'chat_completions' };
  return null;
}

function decodeModel(segment: string): string | undefined {
  try {
    return text(decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

function pathOnly(path: string): string {
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}

type Tokens = Pick<
  MeteredCall,
  'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens' | 'reasoningTokens'
>;

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A token count as the providers send it; anything else (null, negative, fractional, huge) is no count. */
const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Anthropic's usage, merged into what an earlier event said: `message_start` carries every count, `message_delta`
 * the cumulative output and sometimes the input and cache counts again (the latest non-null value wins).
 * `input_tokens` already leaves the cache reads and writes out; Anthropic does not count reasoning apart.
 */
function anthropicTokens(usage: unknown, prev: Tokens | null): Tokens | null {
  if (!isRecord(usage)) return prev;
  const input = count(usage.input_tokens);
  const output = count(usage.output_tokens);
  const cacheRead = count(usage.cache_read_input_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens);
  if (input === undefined && output === undefined && cacheRead === undefined && cacheWrite === undefined) return prev;
  const base = prev ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  return {
    inputTokens: input ?? base.inputTokens,
    outputTokens: output ?? base.outputTokens,
    cacheReadTokens: cacheRead ?? base.cacheReadTokens,
    cacheWriteTokens: cacheWrite ?? base.cacheWriteTokens,
    reasoningTokens: 0,
  };
}

/** OpenAI's usage (Responses or Chat Completions field names): the input count includes the cached tokens. */
function openaiTokens(
  usage: unknown,
  names: { input: string; output: string; inputDetails: string; outputDetails: string },
): Tokens | null {
  if (!isRecord(usage)) return null;
  const input = count(usage[names.input]);
  const output = count(usage[names.output]);
  if (input === undefined && output === undefined) return null;
  const inDetails = usage[names.inputDetails];
  const outDetails = usage[names.outputDetails];
  const cached = (isRecord(inDetails) ? count(inDetails.cached_tokens) : undefined) ?? 0;
  const reasoning = (isRecord(outDetails) ? count(outDetails.reasoning_tokens) : undefined) ?? 0;
  return {
    inputTokens: Math.max(0, (input ?? 0) - cached),
    outputTokens: output ?? 0,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    reasoningTokens: reasoning,
  };
}

/**
 * Gemini's `usageMetadata`: `promptTokenCount` includes the cached tokens (`cachedContentTokenCount`), and the
 * thinking tokens (`thoughtsTokenCount`) are billed as output on top of `candidatesTokenCount`. A stream repeats the
 * counts so far in its chunks: the last one wins.
 */
function geminiTokens(usage: unknown): Tokens | null {
  if (!isRecord(usage)) return null;
  const prompt = count(usage.promptTokenCount);
  const candidates = count(usage.candidatesTokenCount);
  const thoughts = count(usage.thoughtsTokenCount) ?? 0;
  if (prompt === undefined && candidates === undefined) return null;
  const cached = Math.min(count(usage.cachedContentTokenCount) ?? 0, prompt ?? 0);
  return {
    inputTokens: (prompt ?? 0) - cached,
    outputTokens: (candidates ?? 0) + thoughts,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  };
}

const RESPONSES_NAMES = {
  input: 'input_tokens',
  output: 'output_tokens',
  inputDetails: 'input_tokens_details',
  outputDetails: 'output_tokens_details',
};
const CHAT_NAMES = {
  input: 'prompt_tokens',
  output: 'completion_tokens',
  inputDetails: 'prompt_tokens_details',
  outputDetails: 'completion_tokens_details',
};

/** The only events worth parsing, by SSE event name, per API (Chat Completions names none). */
const USAGE_EVENTS: Record<MeteredApi, ReadonlySet<string> | null> = {
  messages: new Set(['message_start', 'message_delta', 'message_stop']),
  responses: new Set(['response.completed', 'response.incomplete', 'response.failed']),
  chat_completions: null,
  generate_content: null,
};
/** For events without a name: a cheap look at the data before parsing it (a false positive only costs a parse). */
const USAGE_DATA: Record<MeteredApi, RegExp> = {
  messages: /"type"\s*:\s*"message_(?:start|delta|stop)"/,
  responses: /"type"\s*:\s*"response\.(?:completed|incomplete|failed)"/,
  chat_completions: /"usage"\s*:\s*\{/,
  generate_content: /"usageMetadata"\s*:\s*\{/,
};

/** What a response said so far: model, id and usage, per wire API. */
class UsageReading {
  model?: string;
  id?: string;
  tokens: Tokens | null = null;
  /** The stream's last event was seen (Anthropic's `message_stop`, a final Responses event, Chat's `[DONE]`). */
  complete = false;
  private chunks = 0;

  constructor(private readonly api: MeteredApi) {}

  /** By its name alone, whether an event may be wanted (false: drop it unread). */
  mayWant(name: string): boolean {
    const names = USAGE_EVENTS[this.api];
    return !names || name === 'message' || names.has(name);
  }

  /** Whether an event is worth parsing: by name when it has one, else by a look at its data. */
  wants(name: string | null, data: string): boolean {
    if (data === '[DONE]') {
      this.complete = true;
      return false;
    }
    const names = USAGE_EVENTS[this.api];
    if (names && name !== null && name !== 'message') return names.has(name);
    // Chat Completions: the first chunk names the model and id, any later one may carry the usage.
    if (this.api === 'chat_completions' && this.chunks++ === 0) return true;
    return USAGE_DATA[this.api].test(data);
  }

  /** One parsed server-sent event. */
  event(body: unknown): void {
    if (!isRecord(body)) return;
    switch (this.api) {
      case 'messages':
        if (body.type === 'message_start' && isRecord(body.message)) {
          this.name(body.message);
          this.tokens = anthropicTokens(body.message.usage, this.tokens);
        } else if (body.type === 'message_delta') {
          this.tokens = anthropicTokens(body.usage, this.tokens);
        } else if (body.type === 'message_stop') {
          this.complete = true;
        }
        return;
      case 'responses':
        if (isRecord(body.response)) this.body(body.response);
        this.complete = true; // only the final events (completed, incomplete, failed) are parsed
        return;
      case 'chat_completions':
        this.name(body);
        this.tokens = openaiTokens(body.usage, CHAT_NAMES) ?? this.tokens;
        return;
      case 'generate_content':
        this.gemini(body);
        return;
    }
  }

  /** A whole (non-streamed) response body, or the response object of a Responses event. */
  body(body: unknown): void {
    // Gemini's `streamGenerateContent` without `alt=sse` answers one JSON array of the chunks.
    if (this.api === 'generate_content' && Array.isArray(body)) {
      for (const chunk of body) if (isRecord(chunk)) this.gemini(chunk);
      return;
    }
    if (!isRecord(body)) return;
    this.name(body);
    switch (this.api) {
      case 'messages':
        this.tokens = anthropicTokens(body.usage, this.tokens);
        return;
      case 'responses': {
        const tokens = openaiTokens(body.usage, RESPONSES_NAMES);
        if (tokens) this.tokens = tokens;
        return;
      }
      case 'chat_completions': {
        const tokens = openaiTokens(body.usage, CHAT_NAMES);
        if (tokens) this.tokens = tokens;
        return;
      }
      case 'generate_content':
        this.gemini(body);
        return;
    }
  }

  private gemini(body: Json): void {
    this.model = text(body.modelVersion) ?? this.model;
    this.id = text(body.responseId) ?? this.id;
    this.tokens = geminiTokens(body.usageMetadata) ?? this.tokens;
  }

  private name(body: Json): void {
    this.model = text(body.model) ?? this.model;
    this.id = text(body.id) ?? this.id;
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Server-sent events, parsed incrementally from bytes: only the current line and the current event's data are
 * kept, never the stream. Events the reading does not want are dropped as soon as their name says so, without
 * decoding their data. Lines split at CR, LF or CRLF; UTF-8 never has those bytes inside a character.
 */
class EventStream {
  private pieces: Buffer[] = [];
  private pending = 0;
  private afterCr = false;
  private name: string | null = null;
  private data: string[] = [];
  private dataBytes = 0;
  /** The current event is not wanted (or is too big): its lines are dropped until the blank line. */
  private skipping = false;

  constructor(private readonly reading: UsageReading) {}

  write(buf: Buffer): void {
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (buf.length > 0 && buf[0] === LF) start = 1;
    }
    // The next CR and LF, each searched once per buffer position (a stream without CRs is not rescanned per line).
    let lf = -2;
    let cr = -2;
    while (start < buf.length) {
      if (lf !== -1 && lf < start) lf = buf.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = buf.indexOf(CR, start);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (end < 0) {
        this.keep(buf.subarray(start));
        return;
      }
      this.line(buf, start, end);
      if (buf[end] === CR) {
        if (end + 1 === buf.length) this.afterCr = true;
        else if (buf[end + 1] === LF) {
          start = end + 2;
          continue;
        }
      }
      start = end + 1;
    }
  }

  private keep(piece: Buffer): void {
    this.pending += piece.length;
    if (this.skipping) return;
    if (this.pending > MAX_METERED_EVENT_BYTES) {
      this.skipping = true;
      this.pieces = [];
      return;
    }
    this.pieces.push(piece);
  }

  private line(buf: Buffer, start: number, end: number): void {
    const length = this.pending + end - start;
    const pieces = this.pieces;
    this.pieces = [];
    this.pending = 0;
    if (length === 0) return this.dispatch();
    if (this.skipping) return;
    const line = pieces.length === 0 ? buf.subarray(start, end) : Buffer.concat([...pieces, buf.subarray(start, end)]);
    if (line[0] === 0x3a) return; // a comment
    const s = line.toString('utf8');
    const colon = s.indexOf(':');
    const field = colon < 0 ? s : s.slice(0, colon);
    let value = colon < 0 ? '' : s.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.dataBytes += line.length;
      if (this.dataBytes > MAX_METERED_EVENT_BYTES) {
        this.skipping = true;
        this.data = [];
        return;
      }
      this.data.push(value);
    } else if (field === 'event') {
      this.name = value;
      if (!this.reading.mayWant(value)) {
        this.skipping = true;
        this.data = [];
      }
    }
  }

  private dispatch(): void {
    const { name, data, skipping } = this;
    this.name = null;
    this.data = [];
    this.dataBytes = 0;
    this.skipping = false;
    if (skipping || data.length === 0) return;
    const joined = data.join('\n');
    if (!this.reading.wants(name, joined)) return;
    let body: unknown;
    try {
      body = JSON.parse(joined);
    } catch {
      return; // not JSON: not an event that reports usage
    }
    this.reading.event(body);
  }

  /** A last event not closed by a blank line still counts. */
  end(): void {
    if (this.pending > 0) this.line(Buffer.alloc(0), 0, 0);
    this.dispatch();
  }
}

/** A whole JSON body, kept up to a cap and parsed at its end. */
class JsonBody {
  private chunks: Buffer[] = [];
  private size = 0;
  private tooBig = false;

  constructor(private readonly reading: UsageReading) {}

  write(buf: Buffer): void {
    if (this.tooBig) return;
    this.size += buf.length;
    if (this.size > MAX_METERED_JSON_BYTES) {
      this.tooBig = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(buf);
  }

  end(): void {
    if (this.tooBig || this.size === 0) return;
    const raw = Buffer.concat(this.chunks, this.size).toString('utf8');
    this.chunks = [];
    try {
      this.reading.body(JSON.parse(raw));
    } catch {
      // not JSON: nothing metered
    }
  }
}

const ENCODINGS = new Set(['', 'identity', 'gzip', 'x-gzip', 'deflate', 'br']);

/** A streaming decompressor for a content-encoding of {@link ENCODINGS}, null for identity. */
function decoderFor(encoding: string, first: Buffer): Transform | null {
  // Lenient about a body cut short: what decompressed before the cut still counts.
  const lenient = { finishFlush: zlibConstants.Z_SYNC_FLUSH };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip(lenient);
    case 'deflate':
      // zlib-wrapped as the standard says (a CMF byte, then a check on both), or raw deflate as some servers send
      return (first[0] & 0x0f) === 8 &&
        first[0] >> 4 <= 7 &&
        (first.length < 2 || ((first[0] << 8) | first[1]) % 31 === 0)
        ? createInflate(lenient)
        : createInflateRaw(lenient);
    case 'br':
      return createBrotliDecompress({ finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH });
    default:
      return null;
  }
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return text(Array.isArray(v) ? v[0] : v);
};

/**
 * Reads the provider's usage from one model call's response as it streams to the client, without holding it:
 * the proxy hands it each chunk after forwarding it. Server-sent events are parsed incrementally (only the current
 * line and event are kept); a JSON body is kept up to {@link MAX_METERED_JSON_BYTES} and parsed at its end.
 * gzip, deflate and br bodies go through a streaming decompressor on the side; other encodings are not metered.
 *
 * Only 2xx responses are metered. A response that reports no usage (malformed, cut short before any usage, a
 * JSON body over the cap, an unknown encoding) yields no call at all rather than one with zero tokens: a call
 * metered at zero would read as free. A stream cut short after some usage yields what it reported so far (the
 * input counts of Anthropic's `message_start`, say). Nothing here ever throws into the proxy.
 */
export class UsageMeter {
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private reading: UsageReading;
  private sink: EventStream | JsonBody | null = null;
  private streamed = false;
  private encoding = '';
  /** undefined until the first body chunk decides; null for an identity body. */
  private decoder: Transform | null | undefined = undefined;
  private active = false;
  private ended: Promise<MeteredCall | null> | null = null;
  private requestBody: Buffer[] | null = [];
  private requestBytes = 0;

  private constructor(
    private readonly target: ModelCallTarget,
    private readonly kind: ModelCallKind,
  ) {
    this.reading = new UsageReading(kind.api);
  }

  /** A meter for a request that is a model call; null for any other request. */
  static for(target: ModelCallTarget): UsageMeter | null {
    const kind = classifyModelCall(target.method, target.host, target.path);
    return kind ? new UsageMeter(target, kind) : null;
  }

  /** A chunk of the request body on its way upstream; the first MiB is kept, to read `model` should the response not say. */
  request = (chunk: Buffer): void => {
    if (!this.requestBody) return;
    this.requestBytes += chunk.length;
    if (this.requestBytes > MAX_REQUEST_MODEL_BYTES) this.requestBody = null;
    else this.requestBody.push(chunk);
  };

  /** The upstream response's status and headers, before its body. False when this response is not metered. */
  response(status: number, headers: IncomingHttpHeaders): boolean {
    this.status = status;
    this.headers = headers;
    const contentType = (header(headers, 'content-type') ?? '').toLowerCase();
    this.encoding = (header(headers, 'content-encoding') ?? '').trim().toLowerCase();
    this.active = status >= 200 && status < 300 && ENCODINGS.has(this.encoding);
    if (!this.active) return false;
    this.streamed = contentType.startsWith('text/event-stream');
    this.sink = this.streamed ? new EventStream(this.reading) : new JsonBody(this.reading);
    return true;
  }

  /** A chunk of the response body, after it went to the client. */
  write = (chunk: Buffer): void => {
    if (!this.active || this.ended || chunk.length === 0) return;
    try {
      if (this.decoder === undefined) this.decoder = this.startDecoder(chunk);
      if (this.decoder) this.decoder.write(chunk);
      else this.sink!.write(chunk);
    } catch {
      this.active = false;
    }
  };

  /**
   * Whether the stream's last event went by, so the call can be metered before the response ends (its final chunk may
   * come later): a plain (not compressed) event stream only, where each chunk is read as it is written.
   */
  get complete(): boolean {
    return this.decoder === null && this.streamed && this.reading.complete;
  }

  /** The end of the response, or its early close: the call as the provider reported it, or null. Never rejects. */
  end(): Promise<MeteredCall | null> {
    this.ended ??= this.finish().catch(() => null);
    return this.ended;
  }

  private startDecoder(first: Buffer): Transform | null {
    const decoder = decoderFor(this.encoding, first);
    if (!decoder) return null;
    decoder.on('data', (out: Buffer) => {
      try {
        if (this.active) this.sink!.write(out);
      } catch {
        this.active = false;
      }
    });
    // A corrupt body stops the reading; what was read before still counts.
    decoder.on('error', () => decoder.removeAllListeners('data'));
    return decoder;
  }

  private async finish(): Promise<MeteredCall | null> {
    const decoder = this.decoder;
    if (decoder && !decoder.destroyed) {
      await new Promise<void>((resolve) => {
        decoder.once('end', resolve);
        decoder.once('error', () => resolve());
        decoder.once('close', resolve);
        decoder.end();
      });
    }
    if (!this.active || !this.sink) return null;
    this.sink.end();
    const tokens = this.reading.tokens;
    if (!tokens) return null;
    const requestId = header(this.headers, 'request-id') ?? header(this.headers, 'x-request-id') ?? this.reading.id;
    return {
      host: this.target.host,
      port: this.target.port,
      method: this.target.method,
      path: pathOnly(this.target.path),
      status: this.status,
      provider: this.kind.provider,
      api: this.kind.api,
      model: (this.reading.model ?? this.kind.model ?? this.requestModel() ?? '').slice(0, MAX_MODEL_CHARS),
      ...(requestId ? { requestId: requestId.slice(0, MAX_REQUEST_ID_CHARS) } : {}),
      streamed: this.streamed,
      ...tokens,
    };
  }

  private requestModel(): string | undefined {
    const chunks = this.requestBody;
    this.requestBody = null;
    if (!chunks || chunks.length === 0) return undefined;
    try {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      return isRecord(body) ? text(body.model) : undefined;
    } catch {
      return undefined;
    }
  }
}
