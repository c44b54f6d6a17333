import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HarnessSession, PermissionHook } from '../adapter';
import { CodexAdapter } from './adapter';
import { adapterRig, expectInOrder, testAgent } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const MODEL = 'gpt-5.5';

const exec = (cmd: string) => ({ toolCalls: [{ name: 'exec_command', input: { cmd } }] });

describe('CodexAdapter (codex app-server against the fake model)', () => {
  const rig = adapterRig('codex');
  const { turn, items, types } = rig;

  const start = (permission?: PermissionHook): Promise<HarnessSession> =>
    rig.launch(
      new CodexAdapter({ killGraceMs: 500 }),
      {
        agent: testAgent({ harness: 'codex', model: MODEL }),
        provider: rig.openai,
      },
      permission,
    );
  const lastInput = (): string =>
    JSON.stringify((rig.fake.requests[rig.fake.requests.length - 1].body as { input: unknown }).input);

  it('runs the scripted shell call after asking the hook, with the shared event shape', async () => {
    await rig.expectShellTurn({
      start: () => start(),
      shell: exec,
      ask: {
        nativeTool: 'commandExecution',
        input: expect.objectContaining({ command: expect.stringContaining('echo hi > out.txt') }),
      },
      order: ['tool_call', 'command', 'tool_result', 'usage', 'agent_message_delta', 'agent_message', 'usage'],
      call: { tool: 'shell', status: 'pending' },
    });
    expect(items().find((i) => i.type === 'command')).toMatchObject({
      argv: ['/bin/bash', '-lc', 'echo hi > out.txt'],
      cwd: rig.workspace,
      exitCode: 0,
    });
    rig.expectStreamed('Wrote out.txt.', true);
    rig.expectUsage(MODEL, 2);
    // Only the fake was reached, with the key from the provider settings.
    expect(new Set(rig.fake.requests.map((r) => `${r.method} ${r.path}`))).toEqual(new Set(['POST /v1/responses']));
    expect(rig.fake.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('maps an apply_patch to file_write + file_change, after asking the hook', async () => {
    const patch = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\nEOF\n";
    rig.fake.script([{ match: 'PATCH', steps: [exec(patch), { text: 'Patched.' }] }]);
    const session = await start();
    await turn(session, 'PATCH it');
    expect(readFileSync(join(rig.workspace, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(rig.asked).toEqual([
      expect.objectContaining({
        tool: 'file_write',
        nativeTool: 'fileChange',
        input: { changes: [{ path: 'hello.txt', kind: 'add' }] },
      }),
    ]);
    expectInOrder(types(), ['tool_call', 'file_change', 'tool_result', 'agent_message']);
    expect(items().find((i) => i.type === 'file_change')).toEqual({
      type: 'file_change',
      path: 'hello.txt',
      diff: expect.stringContaining('+hello'),
    });
  });

  it('a refused call does not run, and the model hears the refusal', async () => {
    await rig.expectRefusedTurn(start, exec);
    // Codex's approval answer has no reason field: the model sees codex's own refusal text.
    expect(lastInput()).toContain('rejected by user');
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    rig.expectCancelAndClose({
      start: () => start(),
      shell: exec,
      refusesAfterClose: true,
    }));

  it('a new session on the same state resumes the codex thread', () => rig.expectResumes(start, lastInput));
});
