import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec, type AgentSpecInput, type ItemBody } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../../../../test/fixtures/fake-model';
import type {
  DelegateHook,
  DelegateRequest,
  HarnessEvent,
  HarnessSession,
  PermissionHook,
  PermissionRequest,
} from '../adapter';
import { YokeHarnessAdapter } from './adapter';
import { AgentLoop } from './agent-loop';

jest.setTimeout(30_000);

const actor = { id: 'u1', name: 'Ada' };
const LEAD: AgentSpecInput = {
  name: 'lead',
  prompt: 'You lead.',
  model: 'claude-sonnet-4-5',
  maxSteps: 5,
  agents: { worker: { harness: 'pi', prompt: 'You work.' } },
};
const DELEGATE = { name: 'delegate', input: { agent: 'worker', prompt: 'do the work' } };

describe.each(['in-process', 'child process'] as const)('the delegate tool of the yoke harness (%s)', (mode) => {
  let fake: FakeModel;
  let root: string;
  let events: HarnessEvent[];
  let permissions: PermissionRequest[];
  let delegated: DelegateRequest[];
  let sessions: HarnessSession[];

  beforeEach(async () => {
    fake = await startFakeModel();
    root = mkdtempSync(join(tmpdir(), 'yoke-delegate-'));
    mkdirSync(join(root, 'ws'));
    events = [];
    permissions = [];
    delegated = [];
    sessions = [];
  });

  afterEach(async () => {
    for (const s of sessions) await s.close();
    await fake.close();
  });

  async function start(
    agent: AgentSpecInput,
    delegate: DelegateHook | undefined,
    permission: PermissionHook = async () => ({ behavior: 'allow' }),
  ): Promise<HarnessSession> {
    const options = {
      sessionId: 'sess-1',
      agent: AgentSpec.parse(agent),
      model: null,
      workspace: join(root, 'ws'),
      stateDir: mkdtempSync(join(root, 'state-')),
      provider: { anthropicBaseUrl: fake.anthropicBaseUrl, anthropicApiKey: 'test-key' },
      permission: async (request: PermissionRequest) => {
        permissions.push(request);
        return permission(request);
      },
      onEvent: (event: HarnessEvent) => events.push(event),
      delegate: delegate
        ? async (request: DelegateRequest) => {
            delegated.push(request);
            return delegate(request);
          }
        : undefined,
    };
    const session =
      mode === 'in-process' ? await AgentLoop.start(options) : await new YokeHarnessAdapter().start(options);
    sessions.push(session);
    return session;
  }

  const turn = (session: HarnessSession) =>
    session.runTurn({ turnId: 't1', content: [{ type: 'text', text: 'LEAD go' }], actor });
  const itemsOf = <T extends ItemBody['type']>(type: T) =>
    events.flatMap((e) =>
      e.kind === 'item' && e.item.type === type ? [e.item as Extract<ItemBody, { type: T }>] : [],
    );

  it('passes the permission hook as kind `agent`, runs the sub-agent through the host, returns its answer', async () => {
    fake.script([{ match: 'LEAD', steps: [{ toolCalls: [DELEGATE] }, { text: 'done' }] }]);
    const session = await start(LEAD, async () => ({ ok: true, sessionId: 'child-1', text: 'the work is done' }));
    await expect(turn(session)).resolves.toEqual({ stopReason: 'end_turn' });

    const [call] = itemsOf('tool_call');
    expect(call).toMatchObject({ tool: 'agent', nativeTool: 'delegate', input: DELEGATE.input });
    expect(permissions).toEqual([
      expect.objectContaining({ callId: call.callId, tool: 'agent', nativeTool: 'delegate' }),
    ]);
    expect(delegated).toEqual([{ callId: call.callId, agent: 'worker', prompt: 'do the work' }]);
    expect(itemsOf('tool_result')).toEqual([
      { type: 'tool_result', callId: call.callId, output: 'the work is done', isError: false },
    ]);
    // The model was offered the tool, and heard the child's answer.
    const first = JSON.stringify(fake.requests[0].body);
    expect(first).toContain('"delegate"');
    expect(JSON.stringify(fake.requests[1].body)).toContain('the work is done');
  });

  it('a refused delegate call never reaches the host', async () => {
    fake.script([{ match: 'LEAD', steps: [{ toolCalls: [DELEGATE] }, { text: 'ok' }] }]);
    const session = await start(
      LEAD,
      async () => ({ ok: true, sessionId: 'c', text: 'x' }),
      async () => ({ behavior: 'deny', reason: 'no delegation here' }),
    );
    await turn(session);
    expect(delegated).toEqual([]);
    expect(itemsOf('tool_result')[0]).toMatchObject({
      isError: true,
      output: 'permission denied: no delegation here',
    });
  });

  it('a failed child, a failing host and a host without delegation come back as tool errors', async () => {
    fake.script([{ match: 'LEAD', steps: [{ toolCalls: [DELEGATE, DELEGATE] }, { text: 'ok' }] }]);
    let n = 0;
    const session = await start(LEAD, async () => {
      if (n++ === 0) return { ok: false, sessionId: 'child-2', error: 'turn failed: boom' };
      throw new Error('server unreachable');
    });
    await turn(session);
    expect(itemsOf('tool_result').map((r) => [r.isError, r.output])).toEqual([
      [true, 'sub-agent worker failed (session child-2): turn failed: boom'],
      [true, 'sub-agent worker failed: server unreachable'],
    ]);

    fake.script([{ match: 'LEAD', steps: [{ toolCalls: [DELEGATE] }, { text: 'ok' }] }]);
    events = [];
    const alone = await start(LEAD, undefined);
    await alone.runTurn({ turnId: 't2', content: [{ type: 'text', text: 'LEAD again' }], actor });
    expect(itemsOf('tool_result')[0]).toMatchObject({
      isError: true,
      output: expect.stringContaining('delegation is not available in this session'),
    });
  });

  it('offers no delegate tool to an agent without sub-agents, and refuses an unknown sub-agent', async () => {
    fake.script([
      {
        match: 'LEAD',
        steps: [{ toolCalls: [{ name: 'delegate', input: { agent: 'ghost', prompt: 'x' } }] }, { text: 'ok' }],
      },
    ]);
    const plain = await start({ ...LEAD, agents: {} }, async () => ({ ok: true, sessionId: 'c', text: 'x' }));
    await turn(plain);
    expect(JSON.stringify(fake.requests[0].body)).not.toContain('"delegate"');
    expect(itemsOf('tool_result')[0]).toMatchObject({ isError: true });
    expect(itemsOf('tool_result')[0].output).toContain('unknown tool "delegate"');

    events = [];
    const lead = await start(LEAD, async () => ({ ok: true, sessionId: 'c', text: 'x' }));
    await lead.runTurn({ turnId: 't2', content: [{ type: 'text', text: 'LEAD once more' }], actor });
    expect(itemsOf('tool_result')[0]).toMatchObject({ isError: true });
    expect(itemsOf('tool_result')[0].output).toContain('invalid input for delegate');
    expect(delegated).toEqual([]);
  });
});
