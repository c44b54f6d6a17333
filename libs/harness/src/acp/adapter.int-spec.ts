import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentSpec } from '@yoke/protocol';
import { testAcpAgentHarness } from '../../../../test/fixtures/acp-agent';
import type { HarnessSession, PermissionHook } from '../adapter';
import { AcpAdapter } from './adapter';
import { adapterRig, cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

describe('AcpAdapter (the test ACP agent against the fake model)', () => {
  const rig = adapterRig('acp');
  const { turn, items, types } = rig;

  const start = (permission?: PermissionHook, model: string | null = null): Promise<HarnessSession> => {
    const harness = testAcpAgentHarness();
    return rig.launch(
      new AcpAdapter(harness, { killGraceMs: 500 }),
      {
        agent: AgentSpec.parse({ name: 'coder', prompt: 'You are a test agent.', harness, model: 'gpt-5.5' }),
        model,
        provider: { openaiBaseUrl: rig.fake.openaiBaseUrl, openaiApiKey: 'test-key' },
      },
      permission,
    );
  };

  it('runs the scripted shell call after asking the hook, with streamed text and usage', async () => {
    rig.fake.script([{ match: 'RUN', steps: [shell('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
    const session = await start();
    await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

    expect(readFileSync(join(rig.workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(rig.asked).toEqual([
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
    expect(rig.fake.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('a refused call does not run, and the agent hears the refusal', async () => {
    rig.fake.script([{ match: 'DENY', steps: [shell('echo hi > out.txt'), { text: 'Understood.' }] }]);
    const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(items().some((i) => i.type === 'command')).toBe(false);
    expect(JSON.stringify(rig.fake.requests[1].body)).toContain('refused');
  });

  it('a hook that throws denies', async () => {
    rig.fake.script([{ match: 'BROKEN', steps: [shell('echo hi > out.txt'), { text: 'Ok.' }] }]);
    const session = await start(async () => {
      throw new Error('policy engine down');
    });
    await turn(session, 'BROKEN hook');
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: expect.stringContaining('policy engine down'),
    });
  });

  it('the model override reaches the model request through the agent model option', async () => {
    rig.fake.script([{ match: 'WHICH', steps: [{ text: 'This one.' }] }]);
    const session = await start(undefined, 'gpt-4.1-mini');
    await turn(session, 'WHICH model');
    expect((rig.fake.requests[0].body as { model: string }).model).toBe('gpt-4.1-mini');
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
      hasChildren: true,
    }));
});
