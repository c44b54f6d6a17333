import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HarnessSession, PermissionHook } from '../adapter';
import { OpenAIAgentsAdapter } from './adapter';
import { adapterRig, testAgent } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

describe('OpenAIAgentsAdapter (OpenAI Agents SDK against the fake model)', () => {
  const rig = adapterRig('oai-agents');
  const { turn, items } = rig;

  const start = (
    permission?: PermissionHook,
    extra: { model?: string | null; provider?: 'openai-chat' | 'openai-responses' } = {},
  ): Promise<HarnessSession> =>
    rig.launch(
      new OpenAIAgentsAdapter({ killGraceMs: 500 }),
      {
        agent: testAgent({
          harness: 'openai-agents',
          model: 'gpt-5.5',
          ...(extra.provider ? { provider: extra.provider } : {}),
        }),
        model: extra.model ?? null,
        provider: rig.openai,
      },
      permission,
    );

  it('runs the scripted shell call after asking the hook, streaming text and usage per model call', async () => {
    await rig.expectShellTurn({
      start: () => start(),
      shell,
      ask: { nativeTool: 'shell', input: { command: 'echo hi > out.txt' } },
      order: ['usage', 'tool_call', 'command', 'tool_result', 'agent_message_delta', 'usage', 'agent_message'],
      call: { status: 'pending' },
    });
    expect(items().find((i) => i.type === 'command')).toMatchObject({ exitCode: 0, cwd: rig.workspace });
    rig.expectUsage('gpt-5.5', 2);
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
    await rig.expectRefusedTurn(start, shell);
    expect(JSON.stringify(rig.fake.requests[1].body)).toContain('permission denied: no writes today');
  });

  it('a hook that throws denies', () => rig.expectThrowingHookDenies(start, shell));

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    rig.expectCancelAndClose({
      start: () => start(),
      shell,
      refusesAfterClose: true,
    }));

  it('a new session on the same state continues the conversation', () => rig.expectResumes(start));
});
