import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentSpec } from '@yoke/protocol';
import type { HarnessSession, PermissionHook } from '../adapter';
import { OpenAIAgentsAdapter } from './adapter';
import { adapterRig, cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

describe('OpenAIAgentsAdapter (OpenAI Agents SDK against the fake model)', () => {
  const rig = adapterRig('oai-agents');
  const { turn, items, types } = rig;

  const start = (
    permission?: PermissionHook,
    extra: { model?: string | null; provider?: 'openai-chat' | 'openai-responses' } = {},
  ): Promise<HarnessSession> =>
    rig.launch(
      new OpenAIAgentsAdapter({ killGraceMs: 500 }),
      {
        agent: AgentSpec.parse({
          name: 'coder',
          prompt: 'You are a test agent.',
          harness: 'openai-agents',
          model: 'gpt-5.5',
          ...(extra.provider ? { provider: extra.provider } : {}),
        }),
        model: extra.model ?? null,
        provider: { openaiBaseUrl: rig.fake.openaiBaseUrl, openaiApiKey: 'test-key' },
      },
      permission,
    );

  it('runs the scripted shell call after asking the hook, streaming text and usage per model call', async () => {
    rig.fake.script([{ match: 'RUN', steps: [shell('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
    const session = await start();
    await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

    expect(readFileSync(join(rig.workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(rig.asked).toEqual([
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
    expect(items().find((i) => i.type === 'tool_call')).toMatchObject({
      callId: rig.asked[0].callId,
      status: 'pending',
    });
    expect(items().find((i) => i.type === 'command')).toMatchObject({ exitCode: 0, cwd: rig.workspace });
    expect(items().find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Wrote out.txt.' });
    const usage = items().filter((i) => i.type === 'usage');
    expect(usage).toHaveLength(2);
    expect(usage[0]).toMatchObject({ model: 'gpt-5.5', inputTokens: expect.any(Number) });
    expect((usage[0] as { costUsd: number }).costUsd).toBeGreaterThan(0);
    expect(new Set(rig.fake.requests.map((r) => `${r.method} ${r.path}`))).toEqual(new Set(['POST /v1/responses']));
    expect(rig.fake.requests[0].headers.authorization).toBe('Bearer test-key');
    const body = rig.fake.requests[0].body as { instructions: string; tools: { name: string }[] };
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
    rig.fake.script([{ match: 'CHAT', steps: [shell('echo hi > out.txt'), { text: 'Done.' }] }]);
    const session = await start(undefined, { provider: 'openai-chat', model: 'gpt-4.1-mini' });
    await expect(turn(session, 'CHAT now')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(readFileSync(join(rig.workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(rig.fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect((rig.fake.requests[0].body as { model: string }).model).toBe('gpt-4.1-mini');
    expect(items().filter((i) => i.type === 'usage')).toHaveLength(2);
  });

  it('a refused call does not run, and the model hears the refusal', async () => {
    rig.fake.script([{ match: 'DENY', steps: [shell('echo hi > out.txt'), { text: 'Understood.' }] }]);
    const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(items().some((i) => i.type === 'command')).toBe(false);
    expect(JSON.stringify(rig.fake.requests[1].body)).toContain('permission denied: no writes today');
  });

  it('a hook that throws denies', async () => {
    rig.fake.script([{ match: 'BROKEN', steps: [shell('echo hi > out.txt'), { text: 'Ok.' }] }]);
    const session = await start(async () => {
      throw new Error('policy engine down');
    });
    await expect(turn(session, 'BROKEN hook')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: expect.stringContaining('policy engine down'),
    });
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    cancelStopsTurnsAndCloseEndsTheTree({
      fake: rig.fake,
      workspace: rig.workspace,
      start: () => start(),
      turn,
      items,
      shell: shell,
      pidOf: (s) => (s as unknown as { pid: number }).pid,
      refusesAfterClose: true,
    }));

  it('a new session on the same state continues the conversation', async () => {
    rig.fake.script([
      { match: 'REMEMBER-1', steps: [{ text: 'The secret is 42.' }] },
      { match: 'REMEMBER-2', steps: [{ text: 'You said 42.' }] },
    ]);
    const first = await start();
    await turn(first, 'REMEMBER-1: the secret');
    await first.close();
    const second = await start();
    await expect(turn(second, 'REMEMBER-2: what was it?')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(JSON.stringify(rig.fake.requests[rig.fake.requests.length - 1].body)).toContain('The secret is 42.');
  });
});
