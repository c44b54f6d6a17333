import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ItemBody } from '@yoke/protocol';
import { SessionTrace } from './session-trace';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterAll(() => provider.shutdown());
afterEach(() => exporter.reset());

const ada = { id: 'u1', name: 'Ada' };
const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function run(content: boolean, items: ItemBody[]): ReadableSpan[] {
  exporter.reset();
  const t = new SessionTrace({ sessionId: 's1', orgId: 'o1', agent: 'lead', harness: 'yoke', model: 'm', content });
  t.turnStarted('t1', ada, PARENT);
  for (const item of items) t.observe(item, ada);
  return exporter.getFinishedSpans();
}

const TURN: ItemBody[] = [
  { type: 'user_message', content: [{ type: 'text', text: 'deploy with OPENAI_API_KEY=sk-abcdefghijklmnop1234' }] },
  {
    type: 'metered_usage',
    provider: 'anthropic',
    api: 'messages',
    host: 'api.anthropic.com',
    model: 'claude-sonnet-4-5',
    inputTokens: 1200,
    outputTokens: 220,
    cacheReadTokens: 300,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 6990,
    priceVersion: '2026-12-01',
    requestId: 'req_1',
    streamed: true,
  },
  // The decision arrives before the call's item: the span starts with it.
  { type: 'policy_decision', callId: 'c1', action: 'tool_call', verdict: 'deny', policies: ['no-rm'], reasons: ['rm'] },
  {
    type: 'tool_call',
    callId: 'c1',
    tool: 'shell',
    nativeTool: 'Bash',
    input: { command: 'rm -rf /' },
    status: 'denied',
  },
  {
    type: 'tool_call',
    callId: 'c2',
    tool: 'shell',
    nativeTool: 'Bash',
    input: { command: 'touch b' },
    status: 'running',
  },
  {
    type: 'approval_request',
    approvalId: 'ap1',
    callId: 'c2',
    subject: 'tool_call',
    policy: 'ask-touch',
    reason: 'touch',
    options: ['approve', 'deny'],
  },
  { type: 'approval_decision', approvalId: 'ap1', decision: 'approve' },
  { type: 'tool_result', callId: 'c2', output: 'done', isError: false },
  { type: 'agent_message', text: 'Finished.' },
  { type: 'turn_completed', stopReason: 'end_turn' },
];

describe('SessionTrace', () => {
  it('makes one invoke_agent span under the prompt, with model calls, tools, decisions and approvals below', () => {
    const spans = run(false, TURN);
    const turn = spans.find((s) => s.name === 'invoke_agent lead')!;
    expect(turn.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(turn.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(turn.attributes).toMatchObject({ 'yoke.session.id': 's1', 'yoke.turn.id': 't1', 'yoke.org.id': 'o1' });
    const under = (s: ReadableSpan) => s.parentSpanContext?.spanId === turn.spanContext().spanId;
    const chat = spans.find((s) => s.name === 'chat claude-sonnet-4-5')!;
    expect(under(chat)).toBe(true);
    expect(chat.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1500,
      'gen_ai.usage.output_tokens': 220,
      'gen_ai.response.id': 'req_1',
      'yoke.cost.micros': 6990,
    });
    const [denied, approved] = ['c1', 'c2'].map((id) =>
      spans.find((s) => s.name === 'execute_tool Bash' && s.attributes['gen_ai.tool.call.id'] === id)!,
    );
    expect(under(denied) && under(approved)).toBe(true);
    expect(denied.status.code).toBe(2);
    expect(denied.events.map((e) => [e.name, e.attributes?.['yoke.policy.verdict']])).toEqual([
      ['yoke.policy.decision', 'deny'],
    ]);
    expect(approved.attributes['yoke.tool.status']).toBe('completed');
    const approval = spans.find((s) => s.name === 'yoke.approval')!;
    expect(approval.parentSpanContext?.spanId).toBe(approved.spanContext().spanId);
    expect(approval.attributes).toMatchObject({ 'yoke.approval.decision': 'approve', 'yoke.approval.by': 'u1' });
    expect(turn.status.code).toBe(0);
  });

  it('carries no content unless the org opted in, and redacts it when it did', () => {
    const plain = run(false, TURN);
    for (const s of plain) {
      expect(JSON.stringify(s.attributes)).not.toMatch(/deploy with|rm -rf|Finished/);
      expect(s.attributes['gen_ai.input.messages']).toBeUndefined();
    }
    const rich = run(true, TURN);
    const turn = rich.find((s) => s.name === 'invoke_agent lead')!;
    expect(String(turn.attributes['gen_ai.input.messages'])).toContain('deploy with OPENAI_API_KEY=[redacted]');
    expect(String(turn.attributes['gen_ai.input.messages'])).not.toContain('sk-abcdefghijklmnop1234');
    expect(String(turn.attributes['gen_ai.output.messages'])).toContain('Finished.');
    const tool = rich.find((s) => s.name === 'execute_tool Bash' && s.attributes['gen_ai.tool.call.id'] === 'c2')!;
    expect(tool.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"command":"touch b"}',
      'gen_ai.tool.call.result': 'done',
    });
  });

  it('ends what a failed turn left open, marked as errors', () => {
    const spans = run(false, [
      { type: 'tool_call', callId: 'c9', tool: 'shell', nativeTool: 'Bash', input: {}, status: 'running' },
      { type: 'turn_failed', error: 'stopped by policy' },
    ]);
    expect(spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'c9')?.status.code).toBe(2);
    expect(spans.find((s) => s.name === 'invoke_agent lead')?.status.code).toBe(2);
  });
});
