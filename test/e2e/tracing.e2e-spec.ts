import type { Approval, Item, Session, SessionPage } from '@yoke/protocol';
import { type FakeModel, startFakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { type ReceivedSpan, startOtlpTraceReceiver } from '../support/otlp-traces';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * One turn, one trace: a prompt sent over HTTP starts a turn on the runner whose spans (the agent, its model calls,
 * its tools with their policy decisions and approval, and a delegated child session) land in a local OTLP receiver
 * under the server's HTTP span, with the server's socket, Postgres and Redis spans joined through the W3C trace
 * context the runner link carries. Team mode: the server, runner and model are separate processes.
 */

const LEAD = `name: lead
prompt: You lead.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
agents:
  helper:
    harness: yoke
    prompt: You help.
policies:
  - { type: deny_commands, name: no-rm, patterns: ["rm"] }
  - type: expr
    name: ask-touch
    when: 'action.tool == "shell" && action.command.contains("touch")'
    verdict: ask
    reason: touching files needs a human
`;

describe('OpenTelemetry: one trace per turn across server and runner (team mode)', () => {
  let model: FakeModel;
  let stack: Stack;
  let otlp: Awaited<ReturnType<typeof startOtlpTraceReceiver>>;

  beforeAll(async () => {
    otlp = await startOtlpTraceReceiver();
    model = await startFakeModel();
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    stack = await startStack('team', tracing);
    await stack.startRunner({
      env: {
        ...tracing,
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        OPENAI_BASE_URL: model.openaiBaseUrl,
        OPENAI_API_KEY: 'test-key',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
    await otlp?.close();
  });

  const items = async (id: string): Promise<Item[]> =>
    (await stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items?afterSeq=0`)).body.items;

  it('exports the span tree of a turn with a tool call, a denial, an approval and a delegated child', async () => {
    model.script([
      { match: 'TRACE-CHILD', steps: [{ text: 'child done' }] },
      {
        match: 'TRACE-LEAD',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo hi > a.txt' } }] },
          { toolCalls: [{ name: 'shell', input: { command: 'rm -rf a.txt' } }] },
          { toolCalls: [{ name: 'shell', input: { command: 'touch b.txt' } }] },
          { toolCalls: [{ name: 'delegate', input: { agent: 'helper', prompt: 'TRACE-CHILD: help' } }] },
          { text: 'All done.' },
        ],
      },
    ]);
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: LEAD,
      prompt: 'TRACE-LEAD: go',
      workspace: tempDir('yoke-ws'),
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const ask = await expectEventually(
      async () =>
        (await stack.api<Approval[]>('GET', `/sessions/${id}/approvals`)).body.find((a) => a.status === 'pending'),
      120_000,
    );
    expect(
      (await stack.api('POST', `/sessions/${id}/approvals/${ask.approvalId}`, { decision: 'approve' })).status,
    ).toBe(200);
    await expectEventually(async () => (await items(id)).some((i) => i.type === 'turn_completed'), 120_000);
    const child = (await stack.api<SessionPage>('GET', `/sessions?parentId=${id}`)).body.sessions[0];
    expect(child).toBeDefined();

    // The whole tree arrives (spans are batched for 100 ms on each side).
    const byName = (name: string, where: (s: ReceivedSpan) => boolean = () => true) =>
      otlp.spans.filter((s) => s.name === name && where(s));
    const lead = await expectEventually(
      () =>
        byName('invoke_agent lead', (s) => s.attributes['yoke.session.id'] === id).find(() =>
          otlp.spans.some((c) => c.name === 'invoke_agent helper' && c.attributes['yoke.session.id'] === child.id),
        ),
      30_000,
    );
    const traceId = lead.traceId;
    const inTrace = otlp.spans.filter((s) => s.traceId === traceId);
    const parentOf = (s: ReceivedSpan) => inTrace.find((p) => p.spanId === s.parentSpanId);
    const childrenOf = (s: ReceivedSpan) => inTrace.filter((c) => c.parentSpanId === s.spanId);

    // The turn is under the server's HTTP span for the request that sent its prompt.
    const root = parentOf(lead)!;
    expect(root).toMatchObject({ service: 'yoke-server', kind: 2 });
    expect(root).toMatchObject({
      name: 'POST /api/v1/sessions',
      attributes: expect.objectContaining({ 'http.route': '/api/v1/sessions' }),
    });
    expect(lead).toMatchObject({
      service: 'yoke-runner',
      attributes: expect.objectContaining({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'lead',
        'yoke.harness': 'yoke',
        'yoke.org.id': expect.any(String),
      }),
    });

    // Model calls as metered at the egress proxy: five, each with its model and tokens.
    const chats = childrenOf(lead).filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats).toHaveLength(5);
    for (const c of chats) {
      expect(c.attributes).toMatchObject({
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5',
        'gen_ai.usage.input_tokens': expect.any(Number),
        'gen_ai.usage.output_tokens': expect.any(Number),
        'yoke.cost.micros': expect.any(Number),
      });
    }

    // Four tool calls: allowed, denied (with the policy's verdict as an event), approved after an ask, delegated.
    const tools = childrenOf(lead).filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
    expect(tools).toHaveLength(4);
    const events = (s: ReceivedSpan) => s.events.filter((e) => e.name === 'yoke.policy.decision');
    const denied = tools.find((t) => events(t).some((e) => e.attributes['yoke.policy.verdict'] === 'deny'))!;
    expect(denied).toBeDefined();
    expect(denied.status.code).toBe(2);
    expect(events(denied)[0].attributes['yoke.policy.policies']).toEqual([expect.stringMatching(/no-rm/)]);
    const asked = tools.find((t) => events(t).some((e) => e.attributes['yoke.policy.verdict'] === 'ask'))!;
    const approval = childrenOf(asked).find((s) => s.name === 'yoke.approval')!;
    expect(approval.attributes).toMatchObject({
      'yoke.approval.decision': 'approve',
      'yoke.approval.by': expect.any(String),
    });
    const delegated = tools.find((t) => t.attributes['gen_ai.tool.name'] === 'delegate')!;
    expect(delegated).toBeDefined();
    // No content by default: no prompt text, arguments or outputs on any span.
    for (const s of inTrace) {
      for (const key of ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments']) {
        expect(s.attributes[key]).toBeUndefined();
      }
    }

    // The delegated child: the server's spawn span under the delegate tool span, the child's turn under it.
    const spawn = childrenOf(delegated).find((s) => s.name === 'session.spawn_child')!;
    expect(spawn).toMatchObject({ service: 'yoke-server' });
    const childTurn = childrenOf(spawn).find((s) => s.name === 'invoke_agent helper')!;
    expect(childTurn).toMatchObject({
      service: 'yoke-runner',
      attributes: expect.objectContaining({ 'yoke.session.id': child.id }),
    });

    // The server stored the turn's items in spans of the same trace, with Postgres (and Redis) work under them.
    const stored = childrenOf(lead).filter((s) => s.name === 'session.items' && s.service === 'yoke-server');
    expect(stored.length).toBeGreaterThan(0);
    const dbWork = stored.flatMap((s) => inTrace.filter((d) => d.parentSpanId === s.spanId));
    expect(
      dbWork.some((d) => d.attributes['db.system'] === 'postgresql' || d.attributes['db.system.name'] === 'postgresql'),
    ).toBe(true);
    expect(
      inTrace.some((d) => d.attributes['db.system'] === 'redis' || d.attributes['db.system.name'] === 'redis'),
    ).toBe(true);
  });
});
