import { testAcpAgentHarness } from '../../../../test/fixtures/acp-agent';
import type { HarnessSession, PermissionHook } from '../adapter';
import { AcpAdapter } from './adapter';
import { adapterRig, testAgent } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

describe('AcpAdapter (the test ACP agent against the fake model)', () => {
  const rig = adapterRig('acp');
  const { turn, items } = rig;

  const start = (permission?: PermissionHook, model: string | null = null): Promise<HarnessSession> => {
    const harness = testAcpAgentHarness();
    return rig.launch(
      new AcpAdapter(harness, { killGraceMs: 500 }),
      {
        agent: testAgent({ harness, model: 'gpt-5.5' }),
        model,
        provider: rig.openai,
      },
      permission,
    );
  };

  it('runs the scripted shell call after asking the hook, with streamed text and usage', async () => {
    await rig.expectShellTurn({
      start: () => start(),
      shell,
      ask: { nativeTool: 'execute', input: expect.objectContaining({ command: 'echo hi > out.txt' }) },
      order: ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage'],
    });
    expect(items().find((i) => i.type === 'command')).toMatchObject({ exitCode: 0 });
    rig.expectUsage('gpt-5.5');
    expect(rig.fake.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('a refused call does not run, and the agent hears the refusal', async () => {
    await rig.expectRefusedTurn(start, shell);
    expect(JSON.stringify(rig.fake.requests[1].body)).toContain('refused');
  });

  it('a hook that throws denies', () => rig.expectThrowingHookDenies(start, shell));

  it('the model override reaches the model request through the agent model option', async () => {
    rig.fake.script([{ match: 'WHICH', steps: [{ text: 'This one.' }] }]);
    const session = await start(undefined, 'gpt-4.1-mini');
    await turn(session, 'WHICH model');
    expect((rig.fake.requests[0].body as { model: string }).model).toBe('gpt-4.1-mini');
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    rig.expectCancelAndClose({
      start: () => start(),
      shell,
      hasChildren: true,
    }));
});
