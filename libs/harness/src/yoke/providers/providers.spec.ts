import { AgentSpec, type ProviderKind } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../../../../../test/fixtures/fake-model';
import type { ModelEvent, ModelMessage } from '../model';
import { costUsd, findModelPrice } from '../pricing';
import { createModelClient, readSse, resolveModel, selectProvider, toAnthropicMessages } from './index';

describe('provider selection', () => {
  it('uses the explicit provider, else guesses from the model name', () => {
    expect(selectProvider('claude-sonnet-4-5')).toBe('anthropic');
    expect(selectProvider('gpt-5-codex')).toBe('openai-responses');
    expect(selectProvider('o3-mini')).toBe('openai-responses');
    expect(selectProvider('codex-mini-latest')).toBe('openai-responses');
    expect(selectProvider('qwen2.5-coder')).toBe('openai-chat');
    expect(selectProvider('claude-sonnet-4-5', 'openai-chat')).toBe('openai-chat');
  });

  it('takes the override model before the agent model and fails without either', () => {
    const agent = AgentSpec.parse({ name: 'a', prompt: 'p', model: 'gpt-5' });
    expect(resolveModel(agent, 'claude-opus-4-1')).toBe('claude-opus-4-1');
    expect(resolveModel(agent, null)).toBe('gpt-5');
    expect(() => resolveModel(AgentSpec.parse({ name: 'a', prompt: 'p' }), null)).toThrow(/no model/);
  });

  it('needs an API key for the vendor endpoints only', () => {
    expect(() => createModelClient('anthropic', {})).toThrow('ANTHROPIC_API_KEY is not set');
    expect(() => createModelClient('openai-responses', {})).toThrow('OPENAI_API_KEY is not set');
    expect(createModelClient('openai-chat', { openaiBaseUrl: 'http://127.0.0.1:1/v1' }).provider).toBe('openai-chat');
  });
});

describe('pricing', () => {
  it('matches model families by longest prefix and prices cached input lower', () => {
    expect(findModelPrice('claude-sonnet-4-5-20250929')).toEqual({ input: 3, output: 15, cachedInput: 0.3 });
    expect(findModelPrice('gpt-5-mini-2025-08-07')?.input).toBe(0.25);
    expect(findModelPrice('gpt-4o-mini')?.input).toBe(0.15);
    expect(findModelPrice('my-local-model')).toBeNull();
    expect(costUsd('claude-sonnet-4-5', { inputTokens: 1_000_000, outputTokens: 1_000_000, cachedTokens: 0 })).toBe(18);
    expect(costUsd('claude-sonnet-4-5', { inputTokens: 1_000_000, outputTokens: 0, cachedTokens: 1_000_000 })).toBe(
      0.3,
    );
    expect(costUsd('mystery', { inputTokens: 5, outputTokens: 5, cachedTokens: 0 })).toBe(0);
  });
});

describe('transcript conversion', () => {
  it('keeps Anthropic tool results in their own user turn, apart from a following prompt', () => {
    const messages: ModelMessage[] = [
      { role: 'user', text: 'a' },
      {
        role: 'assistant',
        text: '',
        toolCalls: [
          { id: 't1', name: 'shell', input: { command: 'ls' } },
          { id: 't2', name: 'shell', input: 'bad' },
        ],
      },
      { role: 'tool_result', callId: 't1', toolName: 'shell', output: 'x', isError: false },
      { role: 'tool_result', callId: 't2', toolName: 'shell', output: 'y', isError: true },
      { role: 'user', text: 'b' },
      { role: 'user', text: 'c' },
    ];
    const out = toAnthropicMessages(messages);
    expect(out.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
      ['user', ['text']],
      ['assistant', ['tool_use', 'tool_use']],
      ['user', ['tool_result', 'tool_result']],
      ['user', ['text', 'text']],
    ]);
    expect(out[1].content[1]).toMatchObject({ input: {} });
  });
});

describe('readSse', () => {
  it('parses CRLF line endings, multi-line data, comments and events split across chunks', async () => {
    const text = ': comment\r\nevent: a\r\ndata: {"x":\r\ndata: 1}\r\n\r\ndata: plain\n\nevent: b\ndata: last';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    const events = [];
    for await (const e of readSse(body)) events.push(e);
    expect(events).toEqual([
      { event: 'a', data: '{"x":\n1}' },
      { event: 'message', data: 'plain' },
      { event: 'b', data: 'last' },
    ]);
  });
});

describe.each<[ProviderKind, string]>([
  ['anthropic', 'claude-haiku-4-5'],
  ['openai-chat', 'llama'],
  ['openai-responses', 'gpt-5-mini'],
])('%s client against the fake model', (kind, model) => {
  let fake: FakeModel;
  beforeAll(async () => {
    fake = await startFakeModel();
  });
  afterAll(() => fake.close());

  const client = () =>
    createModelClient(kind, {
      anthropicBaseUrl: fake.anthropicBaseUrl,
      anthropicApiKey: 'ak',
      openaiBaseUrl: fake.openaiBaseUrl,
      openaiApiKey: 'ok',
    });
  const collect = async (text: string): Promise<ModelEvent[]> => {
    const events: ModelEvent[] = [];
    const request = { model, system: 'sys', messages: [{ role: 'user' as const, text }], tools: [] };
    for await (const e of client().stream(request, new AbortController().signal)) events.push(e);
    return events;
  };

  it('yields text, tool calls with parsed input, stop reason and usage; sends the auth header', async () => {
    fake.script([
      {
        match: 'BOTH',
        steps: [
          {
            text: 'Looking.',
            toolCalls: [
              { name: 'read_file', input: { path: 'a.txt' } },
              { name: 'list_files', input: {} },
            ],
            usage: { inputTokens: 50, outputTokens: 7, cachedTokens: 10 },
          },
        ],
      },
    ]);
    const events = await collect('BOTH');
    const text = events.flatMap((e) => (e.type === 'text_delta' ? [e.text] : []));
    expect(text.join('')).toBe('Looking.');
    expect(events.filter((e) => e.type === 'text_done')).toEqual([
      { type: 'text_done', blockId: expect.any(String), text: 'Looking.' },
    ]);
    const calls = events.flatMap((e) => (e.type === 'tool_call' ? [e.call] : []));
    expect(calls.map((c) => [c.name, c.input])).toEqual([
      ['read_file', { path: 'a.txt' }],
      ['list_files', {}],
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(events[events.length - 1]).toEqual({
      type: 'stop',
      stopReason: 'tool_use',
      usage: { inputTokens: 50, outputTokens: 7, cachedTokens: 10 },
    });
    const headers = fake.requests[fake.requests.length - 1].headers;
    if (kind === 'anthropic') expect(headers).toMatchObject({ 'x-api-key': 'ak', 'anthropic-version': '2023-06-01' });
    else expect(headers.authorization).toBe('Bearer ok');
  });

  it('turns an error event inside the stream into an error', async () => {
    fake.script([{ match: 'MID', steps: [{ error: { status: 200, message: 'stream broke', inStream: true } }] }]);
    await expect(collect('MID')).rejects.toThrow(/stream broke/);
  });

  it('turns a non-2xx answer into an error naming the status and message', async () => {
    fake.script([{ match: 'AUTH', steps: [{ error: { status: 401, message: 'invalid key' } }] }]);
    await expect(collect('AUTH')).rejects.toThrow(`${kind} API error (HTTP 401): invalid key`);
  });
});
