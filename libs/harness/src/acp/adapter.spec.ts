import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec, type ItemBody } from '@yoke/protocol';
import { testAcpAgentHarness } from '../../../../test/fixtures/acp-agent';
import { startFakeModel, type FakeModel } from '../../../../test/fixtures/fake-model';
import type { HarnessEvent, HarnessSession, PermissionHook, PermissionRequest } from '../adapter';
import { createHarnessAdapter } from '../registry';
import { AcpAdapter } from './adapter';
import { acpCommand, acpToolKind } from './tools';
import { cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const actor = { id: 'u1', name: 'Ada' };

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

describe('acp tools', () => {
  it('splits the agent command and maps ACP tool kinds', () => {
    expect(acpCommand('acp:gemini --acp')).toEqual(['gemini', '--acp']);
    expect(acpCommand("acp:node '/a b/agent.js'")).toEqual(['node', '/a b/agent.js']);
    expect(acpCommand('acp:')).toBeNull();
    expect(acpCommand('codex')).toBeNull();
    expect(acpToolKind('execute')).toBe('shell');
    expect(acpToolKind('edit')).toBe('file_edit');
    expect(acpToolKind('think')).toBe('other:think');
    expect(acpToolKind(undefined)).toBe('other:other');
    expect(createHarnessAdapter('acp:gemini --acp')).toMatchObject({ name: 'acp:gemini --acp' });
    expect(() => createHarnessAdapter('acp:')).toThrow(expect.objectContaining({ code: 'agent.invalid' }));
  });
});

describe('AcpAdapter (the test ACP agent against the fake model)', () => {
  let fake: FakeModel;
  let root: string;
  let workspace: string;
  let events: HarnessEvent[];
  let asked: PermissionRequest[];
  let sessions: HarnessSession[];

  beforeAll(async () => {
    fake = await startFakeModel();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'yoke-acp-'));
    workspace = join(root, 'ws');
    mkdirSync(workspace);
    events = [];
    asked = [];
    sessions = [];
    fake.requests.length = 0;
  });
  afterEach(async () => {
    for (const s of sessions) await s.close();
  });

  async function start(
    permission: PermissionHook = async () => ({ behavior: 'allow' }),
    model: string | null = null,
  ): Promise<HarnessSession> {
    const harness = testAcpAgentHarness();
    const session = await new AcpAdapter(harness, { killGraceMs: 500 }).start({
      sessionId: 's1',
      agent: AgentSpec.parse({ name: 'coder', prompt: 'You are a test agent.', harness, model: 'gpt-5.5' }),
      model,
      workspace,
      stateDir: join(root, 'state'),
      provider: { openaiBaseUrl: fake.openaiBaseUrl, openaiApiKey: 'test-key' },
      permission: (request) => {
        asked.push(request);
        return permission(request);
      },
      onEvent: (event) => events.push(event),
    });
    sessions.push(session);
    return session;
  }

  const turn = (session: HarnessSession, text: string, turnId = 't1') =>
    session.runTurn({ turnId, content: [{ type: 'text', text }], actor });
  const items = (): ItemBody[] => events.flatMap((e) => (e.kind === 'item' ? [e.item] : []));
  const types = (): string[] => events.map((e) => (e.kind === 'item' ? e.item.type : e.delta.type));

  it('runs the scripted shell call after asking the hook, with streamed text and usage', async () => {
    fake.script([{ match: 'RUN', steps: [shell('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
    const session = await start();
    await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

    expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(asked).toEqual([
      expect.objectContaining({
        tool: 'shell',
        nativeTool: 'execute',
        input: expect.objectContaining({ command: 'echo hi > out.txt' }),
      }),
    ]);
    expectInOrder(types(), ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage']);
    expect(items().find((i) => i.type === 'command')).toMatchObject({ exitCode: 0 });
    expect(items().find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Wrote out.txt.' });
    const usage = items().find((i) => i.type === 'usage') as { costUsd: number; model: string };
    expect(usage.model).toBe('gpt-5.5');
    expect(usage.costUsd).toBeGreaterThan(0);
    expect(fake.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('a refused call does not run, and the agent hears the refusal', async () => {
    fake.script([{ match: 'DENY', steps: [shell('echo hi > out.txt'), { text: 'Understood.' }] }]);
    const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(items().some((i) => i.type === 'command')).toBe(false);
    expect(JSON.stringify(fake.requests[1].body)).toContain('refused');
  });

  it('a hook that throws denies', async () => {
    fake.script([{ match: 'BROKEN', steps: [shell('echo hi > out.txt'), { text: 'Ok.' }] }]);
    const session = await start(async () => {
      throw new Error('policy engine down');
    });
    await turn(session, 'BROKEN hook');
    expect(existsSync(join(workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: expect.stringContaining('policy engine down'),
    });
  });

  it('the model override reaches the model request through the agent model option', async () => {
    fake.script([{ match: 'WHICH', steps: [{ text: 'This one.' }] }]);
    const session = await start(undefined, 'gpt-4.1-mini');
    await turn(session, 'WHICH model');
    expect((fake.requests[0].body as { model: string }).model).toBe('gpt-4.1-mini');
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    cancelStopsTurnsAndCloseEndsTheTree({
      fake,
      workspace,
      start: () => start(),
      turn,
      items,
      shell: shell,
      pidOf: (s) => (s as unknown as { pid: number }).pid,
      hasChildren: true,
    }));
});
