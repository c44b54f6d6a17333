import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec, type ItemBody, type ProviderKind } from '@yoke/protocol';
import { startFakeModel, type FakeModel, type FakeModelRule } from '../../../../test/fixtures/fake-model';
import type { HarnessEvent, HarnessSession, HarnessStartOptions, PermissionHook, PermissionRequest } from '../adapter';
import { YokeHarnessAdapter } from './adapter';
import { AgentLoop } from './agent-loop';
import { expectEventually, expectInOrder, isAlive } from '../../test/adapter-kit';

jest.setTimeout(30_000);

type Mode = 'in-process' | 'child process';
const MODELS: Record<ProviderKind, string> = {
  anthropic: 'claude-sonnet-4-5',
  'openai-responses': 'gpt-5',
  'openai-chat': 'llama-3.1-8b',
};
const actor = { id: 'u1', name: 'Ada' };

describe.each<[Mode, ProviderKind]>([
  ['in-process', 'anthropic'],
  ['in-process', 'openai-chat'],
  ['in-process', 'openai-responses'],
  ['child process', 'anthropic'],
  ['child process', 'openai-chat'],
  ['child process', 'openai-responses'],
])('yoke harness (%s, %s)', (mode, provider) => {
  let fake: FakeModel;
  let root: string;
  let workspace: string;
  let stateDir: string;
  let events: HarnessEvent[];
  let permissions: PermissionRequest[];
  let sessions: HarnessSession[];
  let turnNo = 0;

  beforeEach(async () => {
    fake = await startFakeModel();
    root = mkdtempSync(join(tmpdir(), 'yoke-harness-'));
    workspace = join(root, 'ws');
    stateDir = join(root, 'state');
    mkdirSync(workspace);
    events = [];
    permissions = [];
    sessions = [];
  });

  afterEach(async () => {
    for (const s of sessions) await s.close();
    await fake.close();
  });

  async function start(permission: PermissionHook = async () => ({ behavior: 'allow' })): Promise<HarnessSession> {
    const options: HarnessStartOptions = {
      sessionId: 'sess-1',
      agent: AgentSpec.parse({ name: 'tester', prompt: 'You are a test agent.', model: MODELS[provider], maxSteps: 5 }),
      model: null,
      workspace,
      stateDir,
      provider: {
        anthropicBaseUrl: fake.anthropicBaseUrl,
        anthropicApiKey: 'test-key',
        openaiBaseUrl: fake.openaiBaseUrl,
        openaiApiKey: 'test-key',
      },
      permission: async (request) => {
        permissions.push(request);
        return permission(request);
      },
      onEvent: (event) => events.push(event),
    };
    const session =
      mode === 'in-process' ? await AgentLoop.start(options) : await new YokeHarnessAdapter().start(options);
    sessions.push(session);
    return session;
  }

  const turn = (session: HarnessSession, text: string) =>
    session.runTurn({ turnId: `turn-${++turnNo}`, content: [{ type: 'text', text }], actor });
  const items = (): ItemBody[] => events.flatMap((e) => (e.kind === 'item' ? [e.item] : []));
  const itemsOf = <T extends ItemBody['type']>(type: T) =>
    items().filter((i): i is Extract<ItemBody, { type: T }> => i.type === type);
  const script = (rules: FakeModelRule[]) => fake.script(rules);
  const lastRequestBody = (): string => JSON.stringify(fake.requests[fake.requests.length - 1].body);

  it('runs a scripted shell call, then answers: events in order, deltas streamed, usage priced', async () => {
    script([
      {
        match: 'WRITE-HI',
        steps: [
          {
            toolCalls: [{ name: 'shell', input: { command: 'echo hi > out.txt; echo wrote it' } }],
            usage: { inputTokens: 120, outputTokens: 20 },
          },
          { text: 'I wrote hi into out.txt.', usage: { inputTokens: 160, outputTokens: 12, cachedTokens: 100 } },
        ],
      },
    ]);
    const session = await start();
    await expect(turn(session, 'please WRITE-HI')).resolves.toEqual({ stopReason: 'end_turn' });

    expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expectInOrder(
      items().map((i) => i.type),
      ['usage', 'tool_call', 'command', 'tool_result', 'agent_message', 'usage'],
    );
    const [call] = itemsOf('tool_call');
    expect(call).toMatchObject({
      tool: 'shell',
      nativeTool: 'shell',
      status: 'pending',
      input: { command: 'echo hi > out.txt; echo wrote it' },
    });
    expect(itemsOf('command')[0]).toEqual({
      type: 'command',
      callId: call.callId,
      argv: ['bash', '-lc', 'echo hi > out.txt; echo wrote it'],
      cwd: workspace,
      exitCode: 0,
      output: 'wrote it\n',
    });
    expect(itemsOf('tool_result')[0]).toMatchObject({
      callId: call.callId,
      isError: false,
      output: expect.stringContaining('wrote it'),
    });
    expect(permissions).toEqual([{ callId: call.callId, tool: 'shell', nativeTool: 'shell', input: call.input }]);

    const deltas = events.flatMap((e) => (e.kind === 'delta' ? [e.delta] : []));
    const output = deltas.filter((d) => d.type === 'command_output_delta');
    expect(output.map((d) => d.text).join('')).toBe('wrote it\n');
    const message = itemsOf('agent_message')[0];
    expect(message.text).toBe('I wrote hi into out.txt.');
    const textDeltas = deltas.filter((d) => d.type === 'agent_message_delta');
    expect(textDeltas.length).toBeGreaterThan(1);
    expect(textDeltas.every((d) => d.streamId === message.streamId && d.turnId === `turn-${turnNo}`)).toBe(true);
    expect(textDeltas.map((d) => d.text).join('')).toBe(message.text);

    const usage = itemsOf('usage');
    expect(usage).toHaveLength(2);
    expect(usage[1]).toMatchObject({ model: MODELS[provider], inputTokens: 160, outputTokens: 12, cachedTokens: 100 });
    if (provider === 'openai-chat') expect(usage[1].costUsd).toBe(0);
    else expect(usage[1].costUsd).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(2);
    expect(lastRequestBody()).toContain('wrote it');
  });

  it('does not run a denied tool call and tells the model why', async () => {
    script([
      {
        match: 'DENY-ME',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'touch denied.txt' } }] }, { text: 'Understood.' }],
      },
    ]);
    const session = await start(async () => ({ behavior: 'deny', reason: 'no shell today' }));
    await expect(turn(session, 'DENY-ME please')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(workspace, 'denied.txt'))).toBe(false);
    expect(itemsOf('command')).toHaveLength(0);
    expect(itemsOf('tool_result')[0]).toMatchObject({
      isError: true,
      output: expect.stringContaining('no shell today'),
    });
    expect(lastRequestBody()).toContain('no shell today');
  });

  it('refuses paths that escape the workspace', async () => {
    script([
      {
        match: 'ESCAPE',
        steps: [
          { toolCalls: [{ name: 'write_file', input: { path: '../escaped.txt', content: 'x' } }] },
          { text: 'Could not.' },
        ],
      },
    ]);
    const session = await start();
    await expect(turn(session, 'ESCAPE now')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(root, 'escaped.txt'))).toBe(false);
    expect(itemsOf('tool_call')[0]).toMatchObject({ tool: 'file_write', nativeTool: 'write_file' });
    expect(itemsOf('tool_result')[0]).toMatchObject({
      isError: true,
      output: expect.stringMatching(/outside the workspace/),
    });
    expect(itemsOf('file_change')).toHaveLength(0);
  });

  it('writes and edits files with file_change diffs', async () => {
    script([
      {
        match: 'EDIT',
        steps: [
          { toolCalls: [{ name: 'write_file', input: { path: 'src/a.txt', content: 'one\ntwo\nthree\n' } }] },
          { toolCalls: [{ name: 'edit_file', input: { path: 'src/a.txt', old_string: 'two', new_string: 'TWO' } }] },
          { text: 'Edited.' },
        ],
      },
    ]);
    const session = await start();
    await expect(turn(session, 'EDIT it')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(readFileSync(join(workspace, 'src/a.txt'), 'utf8')).toBe('one\nTWO\nthree\n');
    const changes = itemsOf('file_change');
    expect(changes.map((c) => c.path)).toEqual(['src/a.txt', 'src/a.txt']);
    expect(changes[1].diff).toContain('-two\n+TWO');
    expect(itemsOf('tool_call').map((c) => c.tool)).toEqual(['file_write', 'file_edit']);
  });

  it('rejects the turn with the HTTP status when the provider fails', async () => {
    script([{ match: 'BOOM', steps: [{ error: { status: 503, message: 'model overloaded' } }] }]);
    const session = await start();
    await expect(turn(session, 'BOOM')).rejects.toThrow(/HTTP 503.*model overloaded/);
    script([{ match: 'AGAIN', steps: [{ text: 'Fine now.' }] }]);
    await expect(turn(session, 'AGAIN')).resolves.toEqual({ stopReason: 'end_turn' });
  });

  it('cancels mid-stream', async () => {
    script([{ match: 'HANG', steps: [{ holdUntil: 'hang', text: 'never seen' }] }]);
    const session = await start();
    const running = turn(session, 'HANG on');
    await fake.waitForHold('hang');
    session.cancel();
    await expect(running).resolves.toEqual({ stopReason: 'cancelled' });
    expect(itemsOf('agent_message')).toHaveLength(0);
  });

  it('cancels a running shell command by killing its process group', async () => {
    script([
      {
        match: 'SLEEP',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'sleep 30 & echo $! > pid.txt; wait' } }] }],
      },
    ]);
    const session = await start();
    const running = turn(session, 'SLEEP');
    await expectEventually(
      () => existsSync(join(workspace, 'pid.txt')) && readFileSync(join(workspace, 'pid.txt'), 'utf8').endsWith('\n'),
    );
    const pid = Number(readFileSync(join(workspace, 'pid.txt'), 'utf8'));
    session.cancel();
    await expect(running).resolves.toEqual({ stopReason: 'cancelled' });
    expect(itemsOf('command')[0]).toMatchObject({ exitCode: null });
    await expectEventually(() => !isAlive(pid));
  });

  it('continues the conversation from the saved transcript in a new session', async () => {
    script([
      { match: 'REMEMBER-1', steps: [{ text: 'The secret is 42.' }] },
      { match: 'REMEMBER-2', steps: [{ text: 'You told me 42.' }] },
    ]);
    const first = await start();
    await turn(first, 'REMEMBER-1: the secret');
    await first.close();

    const second = await start();
    await expect(turn(second, 'REMEMBER-2: what was it?')).resolves.toEqual({ stopReason: 'end_turn' });
    const body = lastRequestBody();
    expect(body).toContain('REMEMBER-1: the secret');
    expect(body).toContain('The secret is 42.');
    expect(body).toContain('REMEMBER-2');
  });

  it('reads a message steered in while it answers, in the same turn; after the turn, steer refuses', async () => {
    script([
      { match: 'LATE', steps: [{ text: 'Heard the late one.' }] },
      { match: 'FIRST', steps: [{ holdUntil: 'answer', text: 'First answer.' }] },
    ]);
    const session = await start();
    const running = turn(session, 'FIRST: answer');
    await fake.waitForHold('answer');
    const steered = session.steer!({
      turnId: `turn-${turnNo}`,
      content: [{ type: 'text', text: 'LATE: one more' }],
      actor,
    });
    await expect(steered).resolves.toBe(true);
    fake.release('answer');
    await expect(running).resolves.toEqual({ stopReason: 'end_turn' });
    expect(itemsOf('agent_message').map((m) => m.text)).toEqual(['First answer.', 'Heard the late one.']);
    const body = lastRequestBody();
    expect(body.indexOf('First answer.')).toBeLessThan(body.indexOf('LATE: one more'));
    await expect(
      session.steer!({ turnId: `turn-${turnNo}`, content: [{ type: 'text', text: 'x' }], actor }),
    ).resolves.toBe(false);
  });

  it('stops at maxSteps with max_turns', async () => {
    const call = { toolCalls: [{ name: 'list_files', input: {} }] };
    script([{ match: 'LOOP', steps: [call, call, call, call, call, call] }]);
    const session = await start();
    await expect(turn(session, 'LOOP')).resolves.toEqual({ stopReason: 'max_turns' });
    expect(fake.requests).toHaveLength(5);
  });
});
