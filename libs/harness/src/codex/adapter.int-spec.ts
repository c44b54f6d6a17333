import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentSpec } from '@yoke/protocol';
import type { HarnessSession, PermissionHook } from '../adapter';
import { CodexAdapter } from './adapter';
import { adapterRig, cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

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
        agent: AgentSpec.parse({ name: 'coder', prompt: 'You are a test agent.', harness: 'codex', model: MODEL }),
        provider: { openaiBaseUrl: rig.fake.openaiBaseUrl, openaiApiKey: 'test-key' },
      },
      permission,
    );
  const lastInput = (): string =>
    JSON.stringify((rig.fake.requests[rig.fake.requests.length - 1].body as { input: unknown }).input);

  it('runs the scripted shell call after asking the hook, with the shared event shape', async () => {
    rig.fake.script([{ match: 'RUN', steps: [exec('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
    const session = await start();
    await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

    expect(readFileSync(join(rig.workspace, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(rig.asked).toEqual([
      expect.objectContaining({
        tool: 'shell',
        nativeTool: 'commandExecution',
        input: expect.objectContaining({ command: expect.stringContaining('echo hi > out.txt') }),
      }),
    ]);
    expectInOrder(types(), [
      'tool_call',
      'command',
      'tool_result',
      'usage',
      'agent_message_delta',
      'agent_message',
      'usage',
    ]);
    const call = items().find((i) => i.type === 'tool_call');
    expect(call).toMatchObject({ tool: 'shell', status: 'pending', callId: rig.asked[0].callId });
    expect(items().find((i) => i.type === 'command')).toMatchObject({
      argv: ['/bin/bash', '-lc', 'echo hi > out.txt'],
      cwd: rig.workspace,
      exitCode: 0,
    });
    const message = items().find((i) => i.type === 'agent_message');
    expect(message).toMatchObject({ text: 'Wrote out.txt.' });
    const deltas = rig.events.flatMap((e) =>
      e.kind === 'delta' && e.delta.type === 'agent_message_delta' ? [e.delta] : [],
    );
    expect(deltas.map((d) => d.text).join('')).toBe('Wrote out.txt.');
    expect(new Set(deltas.map((d) => d.streamId))).toEqual(new Set([(message as { streamId: string }).streamId]));
    const usage = items().filter((i) => i.type === 'usage');
    expect(usage).toHaveLength(2);
    expect(usage[0]).toMatchObject({ model: MODEL, inputTokens: expect.any(Number), costUsd: expect.any(Number) });
    expect((usage[0] as { costUsd: number }).costUsd).toBeGreaterThan(0);
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
    rig.fake.script([{ match: 'DENY', steps: [exec('echo hi > out.txt'), { text: 'Understood.' }] }]);
    const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(items().some((i) => i.type === 'command')).toBe(false);
    // Codex's approval answer has no reason field: the model sees codex's own refusal text.
    expect(lastInput()).toContain('rejected by user');
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    cancelStopsTurnsAndCloseEndsTheTree({
      fake: rig.fake,
      workspace: rig.workspace,
      start: () => start(),
      turn,
      items,
      shell: exec,
      pidOf: (s) => (s as unknown as { proc: { pid: number } }).proc.pid,
      refusesAfterClose: true,
    }));

  it('a new session on the same state resumes the codex thread', async () => {
    rig.fake.script([
      { match: 'REMEMBER-1', steps: [{ text: 'The secret is 42.' }] },
      { match: 'REMEMBER-2', steps: [{ text: 'You said 42.' }] },
    ]);
    const first = await start();
    await turn(first, 'REMEMBER-1: the secret');
    await first.close();
    const second = await start();
    await expect(turn(second, 'REMEMBER-2: what was it?')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(lastInput()).toContain('The secret is 42.');
  });
});
