import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec, type ItemBody } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../../../../test/fixtures/fake-model';
import type { HarnessEvent, HarnessSession, PermissionHook, PermissionRequest } from '../adapter';
import { OpenAIAgentsAdapter } from './adapter';
import { cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const actor = { id: 'u1', name: 'Ada' };

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

describe('OpenAIAgentsAdapter (OpenAI Agents SDK against the fake model)', () => {
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
    root = mkdtempSync(join(tmpdir(), 'yoke-oai-agents-'));
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
    extra: { model?: string | null; provider?: 'openai-chat' | 'openai-responses' } = {},
  ): Promise<HarnessSession> {
    const session = await new OpenAIAgentsAdapter({ killGraceMs: 500 }).start({
      sessionId: 's1',
      agent: AgentSpec.parse({
        name: 'coder',
        prompt: 'You are a test agent.',
        harness: 'openai-agents',
        model: 'gpt-5.5',
        ...(extra.provider ? { provider: extra.provider } : {}),
      }),
      model: extra.model ?? null,
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

  it('runs the scripted shell call after asking the hook, streaming text and usage per model call', async () => {
    fake.script([{ match: 'RUN', steps: [shell('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
    const session = await start();
    await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

    expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(asked).toEqual([
      expect.objectContaining({ tool: 'shell', nativeTool: 'shell', input: { command: 'echo hi > out.txt' } }),
    ]);
    expectInOrder(types(), [
      'usage',
      'tool_call',
      'command',
      'tool_result',
      'agent_message_delta',
      'usage',
      'agent_message',
    ]);
    expect(items().find((i) => i.type === 'tool_call')).toMatchObject({ callId: asked[0].callId, status: 'pending' });
    expect(items().find((i) => i.type === 'command')).toMatchObject({ exitCode: 0, cwd: workspace });
    expect(items().find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Wrote out.txt.' });
    const usage = items().filter((i) => i.type === 'usage');
    expect(usage).toHaveLength(2);
    expect(usage[0]).toMatchObject({ model: 'gpt-5.5', inputTokens: expect.any(Number) });
    expect((usage[0] as { costUsd: number }).costUsd).toBeGreaterThan(0);
    expect(new Set(fake.requests.map((r) => `${r.method} ${r.path}`))).toEqual(new Set(['POST /v1/responses']));
    expect(fake.requests[0].headers.authorization).toBe('Bearer test-key');
    const body = fake.requests[0].body as { instructions: string; tools: { name: string }[] };
    expect(body.instructions).toBe('You are a test agent.');
    expect(body.tools.map((t) => t.name).sort()).toEqual([
      'edit_file',
      'list_files',
      'read_file',
      'shell',
      'write_file',
    ]);
  });

  it('speaks Chat Completions when the agent says so, and the model override reaches the request', async () => {
    fake.script([{ match: 'CHAT', steps: [shell('echo hi > out.txt'), { text: 'Done.' }] }]);
    const session = await start(undefined, { provider: 'openai-chat', model: 'gpt-4.1-mini' });
    await expect(turn(session, 'CHAT now')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect((fake.requests[0].body as { model: string }).model).toBe('gpt-4.1-mini');
    expect(items().filter((i) => i.type === 'usage')).toHaveLength(2);
  });

  it('a refused call does not run, and the model hears the refusal', async () => {
    fake.script([{ match: 'DENY', steps: [shell('echo hi > out.txt'), { text: 'Understood.' }] }]);
    const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(items().some((i) => i.type === 'command')).toBe(false);
    expect(JSON.stringify(fake.requests[1].body)).toContain('permission denied: no writes today');
  });

  it('a hook that throws denies', async () => {
    fake.script([{ match: 'BROKEN', steps: [shell('echo hi > out.txt'), { text: 'Ok.' }] }]);
    const session = await start(async () => {
      throw new Error('policy engine down');
    });
    await expect(turn(session, 'BROKEN hook')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: expect.stringContaining('policy engine down'),
    });
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
      refusesAfterClose: true,
    }));

  it('a new session on the same state continues the conversation', async () => {
    fake.script([
      { match: 'REMEMBER-1', steps: [{ text: 'The secret is 42.' }] },
      { match: 'REMEMBER-2', steps: [{ text: 'You said 42.' }] },
    ]);
    const first = await start();
    await turn(first, 'REMEMBER-1: the secret');
    await first.close();
    const second = await start();
    await expect(turn(second, 'REMEMBER-2: what was it?')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(JSON.stringify(fake.requests[fake.requests.length - 1].body)).toContain('The secret is 42.');
  });
});
