import type { IncomingHttpHeaders } from 'node:http';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  classifyModelCall,
  MAX_METERED_JSON_BYTES,
  type MeteredCall,
  type ModelCallTarget,
  UsageMeter,
} from './metering';

const ANTHROPIC: ModelCallTarget = { host: 'api.anthropic.com', port: 443, method: 'POST', path: '/v1/messages' };
const RESPONSES: ModelCallTarget = { host: 'api.openai.com', port: 443, method: 'POST', path: '/v1/responses' };
const CHAT: ModelCallTarget = { host: 'api.openai.com', port: 443, method: 'POST', path: '/v1/chat/completions' };
const GEMINI: ModelCallTarget = {
  host: 'generativelanguage.googleapis.com',
  port: 443,
  method: 'POST',
  path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
};
const SSE = { 'content-type': 'text/event-stream; charset=utf-8' };
const JSON_TYPE = { 'content-type': 'application/json' };

const sse = (event: string | null, data: unknown): string =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/** Runs a response through a meter in the given chunks, the request body first when there is one. */
async function meter(
  target: ModelCallTarget,
  headers: IncomingHttpHeaders,
  chunks: Buffer[],
  opts: { status?: number; request?: unknown } = {},
): Promise<MeteredCall | null> {
  const m = UsageMeter.for(target);
  if (!m) throw new Error('not a model call');
  if (opts.request !== undefined) m.request(Buffer.from(JSON.stringify(opts.request)));
  m.response(opts.status ?? 200, headers);
  for (const c of chunks) m.write(c);
  return m.end();
}

/** `body` cut at the given offsets (any order, duplicates and out-of-range values allowed). */
function split(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, body.length]) {
    out.push(body.subarray(prev, p));
    prev = p;
  }
  return out;
}

// A multi-byte character (and an emoji across 4 bytes) in the text deltas: split points fall inside them too.
const TEXT = 'Bonjour, ça va ? 🙂 données';

const anthropicStream = (): string =>
  [
    sse('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        usage: { input_tokens: 120, cache_creation_input_tokens: 300, cache_read_input_tokens: 4000, output_tokens: 1 },
      },
    }),
    sse('ping', { type: 'ping' }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...[...TEXT].map((t) =>
      sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } }),
    ),
    // text that looks like a usage event must not count
    sse('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: '{"type":"message_delta","usage":{"output_tokens":999999}}' },
    }),
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 57 },
    }),
    sse('message_stop', { type: 'message_stop' }),
  ].join('');

const ANTHROPIC_CALL: MeteredCall = {
  host: 'api.anthropic.com',
  port: 443,
  method: 'POST',
  path: '/v1/messages',
  status: 200,
  provider: 'anthropic',
  api: 'messages',
  model: 'claude-sonnet-4-5',
  requestId: 'req_abc',
  streamed: true,
  inputTokens: 120,
  outputTokens: 57,
  cacheReadTokens: 4000,
  cacheWriteTokens: 300,
  reasoningTokens: 0,
};

const responsesStream = (): string => {
  const response = {
    id: 'resp_1',
    object: 'response',
    status: 'in_progress',
    model: 'gpt-5.1',
    output: [],
    usage: null,
  };
  return [
    sse('response.created', { type: 'response.created', sequence_number: 0, response }),
    sse('response.in_progress', { type: 'response.in_progress', sequence_number: 1, response }),
    ...[...TEXT].map((delta, i) =>
      sse('response.output_text.delta', { type: 'response.output_text.delta', sequence_number: 2 + i, delta }),
    ),
    sse('response.completed', {
      type: 'response.completed',
      sequence_number: 99,
      response: {
        ...response,
        status: 'completed',
        output: [{ type: 'message', content: [{ type: 'output_text', text: TEXT }] }],
        usage: {
          input_tokens: 5200,
          input_tokens_details: { cached_tokens: 5000 },
          output_tokens: 900,
          output_tokens_details: { reasoning_tokens: 640 },
          total_tokens: 6100,
        },
      },
    }),
  ].join('');
};

const RESPONSES_CALL: MeteredCall = {
  ...ANTHROPIC_CALL,
  host: 'api.openai.com',
  path: '/v1/responses',
  provider: 'openai',
  api: 'responses',
  model: 'gpt-5.1',
  requestId: 'req_openai',
  inputTokens: 200,
  outputTokens: 900,
  cacheReadTokens: 5000,
  cacheWriteTokens: 0,
  reasoningTokens: 640,
};

const chatStream = (includeUsage: boolean): string => {
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1' };
  const chunk = (delta: unknown, finish: string | null = null): string =>
    sse(null, {
      ...base,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
  return [
    chunk({ role: 'assistant', content: '' }),
    ...[...TEXT].map((content) => chunk({ content })),
    chunk({ content: '"usage": {"prompt_tokens": 1}' }),
    chunk({}, 'stop'),
    ...(includeUsage
      ? [
          sse(null, {
            ...base,
            choices: [],
            usage: {
              prompt_tokens: 2048,
              completion_tokens: 300,
              total_tokens: 2348,
              prompt_tokens_details: { cached_tokens: 1024 },
              completion_tokens_details: { reasoning_tokens: 128 },
            },
          }),
        ]
      : []),
    'data: [DONE]\n\n',
  ].join('');
};

const CHAT_CALL: MeteredCall = {
  ...RESPONSES_CALL,
  path: '/v1/chat/completions',
  api: 'chat_completions',
  model: 'gpt-4.1',
  inputTokens: 1024,
  outputTokens: 300,
  cacheReadTokens: 1024,
  reasoningTokens: 128,
};

/** Gemini's chunks: each repeats the counts so far; thinking tokens are billed as output. */
const geminiChunks = (): unknown[] => {
  const chunk = (text: string, usage: Record<string, number>) => ({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }],
    usageMetadata: usage,
    modelVersion: 'gemini-2.5-pro',
    responseId: 'gemini_resp_1',
  });
  return [
    ...[...TEXT].map((t) => chunk(t, { promptTokenCount: 4000, candidatesTokenCount: 1, totalTokenCount: 4001 })),
    chunk('', {
      promptTokenCount: 4000,
      cachedContentTokenCount: 3000,
      candidatesTokenCount: 250,
      thoughtsTokenCount: 500,
      totalTokenCount: 4750,
    }),
  ];
};
const geminiStream = (): string =>
  geminiChunks()
    .map((c) => sse(null, c))
    .join('');

const GEMINI_CALL: MeteredCall = {
  ...ANTHROPIC_CALL,
  host: GEMINI.host,
  path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent',
  provider: 'google',
  api: 'generate_content',
  model: 'gemini-2.5-pro',
  requestId: 'req_gemini',
  inputTokens: 1000,
  outputTokens: 750,
  cacheReadTokens: 3000,
  cacheWriteTokens: 0,
  reasoningTokens: 500,
};

const STREAMS = [
  { name: 'Anthropic Messages', target: ANTHROPIC, body: anthropicStream, id: 'request-id', call: ANTHROPIC_CALL },
  { name: 'OpenAI Responses', target: RESPONSES, body: responsesStream, id: 'x-request-id', call: RESPONSES_CALL },
  { name: 'Chat Completions', target: CHAT, body: () => chatStream(true), id: 'x-request-id', call: CHAT_CALL },
  { name: 'Gemini streamGenerateContent', target: GEMINI, body: geminiStream, id: 'x-request-id', call: GEMINI_CALL },
];

describe('classifyModelCall', () => {
  it.each([
    ['POST', 'api.anthropic.com', '/v1/messages', { provider: 'anthropic', api: 'messages' }],
    ['POST', 'api.anthropic.com', '/v1/messages?beta=true', { provider: 'anthropic', api: 'messages' }],
    ['post', 'gateway.example.com', '/anthropic/messages', { provider: 'anthropic', api: 'messages' }],
    ['POST', 'api.openai.com', '/v1/responses', { provider: 'openai', api: 'responses' }],
    ['POST', 'API.OPENAI.COM', '/v1/responses', { provider: 'openai', api: 'responses' }],
    ['POST', 'llm.example.com', '/v1/responses', { provider: 'openai_compatible', api: 'responses' }],
    ['POST', 'api.openai.com', '/v1/chat/completions', { provider: 'openai', api: 'chat_completions' }],
    ['POST', 'openrouter.ai', '/api/v1/chat/completions', { provider: 'openai_compatible', api: 'chat_completions' }],
    [
      'POST',
      'generativelanguage.googleapis.com',
      '/v1beta/models/gemini-2.5-flash:generateContent',
      { provider: 'google', api: 'generate_content', model: 'gemini-2.5-flash' },
    ],
    [
      'POST',
      '127.0.0.1',
      '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
      { provider: 'google', api: 'generate_content', model: 'gemini-2.5-pro' },
    ],
    ['POST', 'generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-pro:countTokens', null],
    ['GET', 'generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-pro:generateContent', null],
    ['POST', 'api.anthropic.com', '/v1/messages/count_tokens', null],
    ['GET', 'api.anthropic.com', '/v1/messages', null],
    ['GET', 'api.openai.com', '/v1/models', null],
    ['POST', 'api.openai.com', '/v1/embeddings', null],
    ['POST', 'api.openai.com', '/v1/responses/resp_1/cancel', null],
    ['POST', 'api.openai.com', '/v1/completions', null],
  ])('%s %s%s', (method, host, path, expected) => {
    expect(classifyModelCall(method, host, path)).toEqual(expected);
  });
});

describe('UsageMeter', () => {
  describe.each(STREAMS)('$name, streamed', ({ target, body, id, call }) => {
    it('reads the usage, model and request id', async () => {
      const got = await meter(target, { ...SSE, [id]: call.requestId }, [Buffer.from(body())]);
      expect(got).toEqual(call);
    });

    it('takes the message or response id when no request-id header came', async () => {
      const got = await meter(target, SSE, [Buffer.from(body())]);
      expect(got?.requestId).toMatch(/^(msg_01|resp_1|chatcmpl-1|gemini_resp_1)$/);
    });

    it('reads the same whatever the chunk boundaries (inside lines and characters too)', async () => {
      const whole = Buffer.from(body());
      const headers = { ...SSE, [id]: call.requestId };
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (cuts) => {
          expect(await meter(target, headers, split(whole, cuts))).toEqual(call);
        }),
        { numRuns: 150 },
      );
    });

    it('reads the same one byte at a time, and with CRLF or CR line ends', async () => {
      const headers = { ...SSE, [id]: call.requestId };
      const bytes = Buffer.from(body());
      expect(await meter(target, headers, split(bytes, [...bytes.keys()]))).toEqual(call);
      for (const eol of ['\r\n', '\r']) {
        const other = Buffer.from(body().replace(/\n/g, eol));
        await fc.assert(
          fc.asyncProperty(fc.array(fc.nat(), { maxLength: 20 }), async (cuts) => {
            expect(await meter(target, headers, split(other, cuts))).toEqual(call);
          }),
          { numRuns: 50 },
        );
      }
    });

    it('reads events that name no event type', async () => {
      const unnamed = body().replace(/^event: .*\n/gm, '');
      expect(await meter(target, { ...SSE, [id]: call.requestId }, [Buffer.from(unnamed)])).toEqual(call);
    });

    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['deflate', deflateRawSync],
      ['br', brotliCompressSync],
    ])('decompresses a %s body on the side, whatever the chunk boundaries', async (encoding, compress) => {
      const compressed = compress(Buffer.from(body()));
      const headers = { ...SSE, 'content-encoding': encoding, [id]: call.requestId };
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 20 }), async (cuts) => {
          expect(await meter(target, headers, split(compressed, cuts))).toEqual(call);
        }),
        { numRuns: 30 },
      );
    });
  });

  it('Anthropic: a message_delta carrying input and cache counts wins over message_start, nulls aside', async () => {
    const body =
      sse('message_start', {
        type: 'message_start',
        message: { id: 'msg_2', model: 'claude-opus-4-1', usage: { input_tokens: 10, output_tokens: 1 } },
      }) +
      sse('message_delta', {
        type: 'message_delta',
        usage: { output_tokens: 20, input_tokens: 15, cache_read_input_tokens: 7, cache_creation_input_tokens: null },
      }) +
      sse('message_delta', {
        type: 'message_delta',
        usage: { output_tokens: 33, input_tokens: null, cache_creation_input_tokens: 4 },
      });
    expect(await meter(ANTHROPIC, SSE, [Buffer.from(body)])).toMatchObject({
      model: 'claude-opus-4-1',
      requestId: 'msg_2',
      inputTokens: 15,
      outputTokens: 33,
      cacheReadTokens: 7,
      cacheWriteTokens: 4,
      reasoningTokens: 0,
    });
  });

  it('Anthropic, not streamed', async () => {
    const body = {
      id: 'msg_3',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: TEXT }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 2048, output_tokens: 9 },
    };
    const bytes = Buffer.from(JSON.stringify(body));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 20 }), async (cuts) => {
        expect(await meter(ANTHROPIC, JSON_TYPE, split(bytes, cuts))).toEqual({
          ...ANTHROPIC_CALL,
          model: 'claude-haiku-4-5',
          requestId: 'msg_3',
          streamed: false,
          inputTokens: 12,
          outputTokens: 9,
          cacheReadTokens: 2048,
          cacheWriteTokens: 0,
        });
      }),
      { numRuns: 30 },
    );
  });

  it('OpenAI Responses, not streamed, on another host: openai_compatible, gzip', async () => {
    const body = {
      id: 'resp_9',
      object: 'response',
      model: 'qwen3-coder',
      output: [],
      usage: {
        input_tokens: 300,
        input_tokens_details: { cached_tokens: 100 },
        output_tokens: 50,
        output_tokens_details: { reasoning_tokens: 20 },
      },
    };
    const target = { ...RESPONSES, host: 'llm.internal.example', port: 8443 };
    const headers = { ...JSON_TYPE, 'content-encoding': 'gzip' };
    expect(await meter(target, headers, [gzipSync(JSON.stringify(body))])).toEqual({
      ...RESPONSES_CALL,
      host: 'llm.internal.example',
      port: 8443,
      provider: 'openai_compatible',
      model: 'qwen3-coder',
      requestId: 'resp_9',
      streamed: false,
      inputTokens: 200,
      outputTokens: 50,
      cacheReadTokens: 100,
      reasoningTokens: 20,
    });
  });

  it('Chat Completions, not streamed, with the query string left out of the path', async () => {
    const body = {
      id: 'chatcmpl-7',
      object: 'chat.completion',
      model: 'gpt-4.1-mini',
      choices: [],
      usage: { prompt_tokens: 40, completion_tokens: 8, total_tokens: 48 },
    };
    const target = { ...CHAT, path: '/v1/chat/completions?api-version=2025-01-01' };
    expect(await meter(target, JSON_TYPE, [Buffer.from(JSON.stringify(body))])).toEqual({
      ...CHAT_CALL,
      model: 'gpt-4.1-mini',
      requestId: 'chatcmpl-7',
      streamed: false,
      inputTokens: 40,
      outputTokens: 8,
      cacheReadTokens: 0,
      reasoningTokens: 0,
    });
  });

  it('Chat Completions streamed without include_usage reports no usage: no call', async () => {
    expect(await meter(CHAT, SSE, [Buffer.from(chatStream(false))])).toBeNull();
  });

  it('a Responses stream that ends failed with its usage is metered', async () => {
    const body = sse('response.failed', {
      type: 'response.failed',
      response: { id: 'resp_f', model: 'gpt-5', status: 'failed', usage: { input_tokens: 10, output_tokens: 2 } },
    });
    expect(await meter(RESPONSES, SSE, [Buffer.from(body)])).toMatchObject({ inputTokens: 10, outputTokens: 2 });
  });

  it('takes the model from the request body when the response names none', async () => {
    const body = { id: 'msg_4', usage: { input_tokens: 3, output_tokens: 4 } };
    const got = await meter(ANTHROPIC, JSON_TYPE, [Buffer.from(JSON.stringify(body))], {
      request: { model: 'claude-from-request', messages: [] },
    });
    expect(got).toMatchObject({ model: 'claude-from-request', inputTokens: 3, outputTokens: 4 });
    const none = await meter(ANTHROPIC, JSON_TYPE, [Buffer.from(JSON.stringify(body))]);
    expect(none?.model).toBe('');
  });

  it('meters what a stream cut short reported so far', async () => {
    const whole = anthropicStream();
    const cut = whole.slice(0, whole.indexOf('event: message_delta') + 30);
    expect(await meter(ANTHROPIC, SSE, [Buffer.from(cut)])).toMatchObject({ inputTokens: 120, outputTokens: 1 });
    // a gzip body cut short too: what decompressed before the cut counts
    const gz = gzipSync(whole);
    const partial = gz.subarray(0, Math.floor(gz.length * 0.9));
    const got = await meter(ANTHROPIC, { ...SSE, 'content-encoding': 'gzip' }, [partial]);
    expect(got).toMatchObject({ inputTokens: 120, cacheReadTokens: 4000 });
  });

  it('a last event without its blank line still counts', async () => {
    expect(
      await meter(CHAT, SSE, [
        Buffer.from(
          chatStream(true)
            .replace(/data: \[DONE\]\n\n$/, '')
            .trimEnd(),
        ),
      ]),
    ).toMatchObject({ inputTokens: 1024, outputTokens: 300 });
  });

  describe('never throws, and meters nothing it cannot read', () => {
    it.each([
      ['garbage', SSE, Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x0a, 0x0d, 0x3a, 0x80])],
      ['malformed event data', SSE, Buffer.from(sse('message_start', '{"type":"message_start","message":{'))],
      ['a usage of the wrong types', SSE, Buffer.from(sse('message_delta', { usage: { output_tokens: '12' } }))],
      ['negative and fractional counts', SSE, Buffer.from(sse('message_delta', { usage: { output_tokens: -1.5 } }))],
      ['a truncated JSON body', JSON_TYPE, Buffer.from('{"id":"msg_1","usage":{"input_tokens":1')],
      ['a JSON body that is not an object', JSON_TYPE, Buffer.from('[1,2,3]')],
      ['an empty body', JSON_TYPE, Buffer.alloc(0)],
      ['a corrupt gzip body', { ...SSE, 'content-encoding': 'gzip' }, Buffer.from('not gzip at all')],
    ])('%s', async (_name, headers, body) => {
      expect(await meter(ANTHROPIC, headers, [body])).toBeNull();
    });

    it('random bytes, as SSE or JSON, plain or said to be compressed', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2000 }),
          fc.constantFrom(SSE, JSON_TYPE),
          fc.constantFrom(undefined, 'gzip', 'deflate', 'br'),
          fc.constantFrom(ANTHROPIC, RESPONSES, CHAT),
          async (bytes, type, encoding, target) => {
            const headers = encoding ? { ...type, 'content-encoding': encoding } : type;
            await expect(meter(target, headers, [Buffer.from(bytes)])).resolves.toBeNull();
          },
        ),
        { numRuns: 200 },
      );
    });

    it('a non-2xx response is not metered', async () => {
      const error = {
        type: 'error',
        error: { type: 'overloaded_error' },
        usage: { input_tokens: 5, output_tokens: 1 },
      };
      for (const status of [400, 429, 500, 529, 304]) {
        expect(await meter(ANTHROPIC, JSON_TYPE, [Buffer.from(JSON.stringify(error))], { status })).toBeNull();
      }
    });

    it('an unknown content-encoding is not metered', async () => {
      const headers = { ...SSE, 'content-encoding': 'zstd' };
      expect(await meter(ANTHROPIC, headers, [Buffer.from(anthropicStream())])).toBeNull();
    });

    it('a JSON body over the cap is given up on', async () => {
      const body = { id: 'm', model: 'x', pad: 'a'.repeat(MAX_METERED_JSON_BYTES), usage: { input_tokens: 1 } };
      expect(await meter(ANTHROPIC, JSON_TYPE, [Buffer.from(JSON.stringify(body))])).toBeNull();
    });

    it('an unwanted event of any size is dropped without holding the usage events back', async () => {
      const big = sse('content_block_delta', { delta: { text: 'x'.repeat(9 * 1024 * 1024) } });
      const body = Buffer.from(big + anthropicStream());
      const got = await meter(ANTHROPIC, SSE, split(body, [100, 5000, 1024 * 1024, 9 * 1024 * 1024]));
      expect(got).toMatchObject({ inputTokens: 120, outputTokens: 57 });
    });
  });

  it('Gemini, not streamed, and streamed as one JSON array (no alt=sse): the last counts win; the model from the path', async () => {
    const path = '/v1beta/models/gemini-2.5-pro:generateContent';
    const last = geminiChunks().at(-1) as Record<string, unknown>;
    const { modelVersion: _omit, ...withoutModel } = last;
    const single = await meter({ ...GEMINI, path }, JSON_TYPE, [Buffer.from(JSON.stringify(withoutModel))]);
    expect(single).toEqual({ ...GEMINI_CALL, path, requestId: 'gemini_resp_1', streamed: false });

    const arrayPath = '/v1beta/models/gemini-2.5-pro:streamGenerateContent';
    const bytes = Buffer.from(JSON.stringify(geminiChunks()));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 20 }), async (cuts) => {
        expect(await meter({ ...GEMINI, path: arrayPath }, JSON_TYPE, split(bytes, cuts))).toEqual({
          ...GEMINI_CALL,
          path: arrayPath,
          requestId: 'gemini_resp_1',
          streamed: false,
        });
      }),
      { numRuns: 30 },
    );
  });

  it('Gemini: a response without usageMetadata is not metered', async () => {
    const body = JSON.stringify({ candidates: [{ content: { parts: [{ text: 'hi' }] } }] });
    expect(await meter(GEMINI, JSON_TYPE, [Buffer.from(body)])).toBeNull();
  });
});
