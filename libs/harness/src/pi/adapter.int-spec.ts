import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentSpec, type ProviderKind } from '@yoke/protocol';
import type { FakeModelStep } from '../../../../test/fixtures/fake-model';
import type { HarnessSession, PermissionHook } from '../adapter';
import { PiAdapter } from './adapter';
import { adapterRig, cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const MODELS: Record<ProviderKind, string> = {
  anthropic: 'claude-sonnet-4-5',
  'openai-responses': 'gpt-5',
  'openai-chat': 'gpt-4o',
};

const call = (name: string, input: unknown): FakeModelStep => ({ toolCalls: [{ name, input }] });

describe('PiAdapter (pi --mode rpc against the fake model)', () => {
  const rig = adapterRig('pi');
  const { turn, items, types } = rig;

  const start = (kind: ProviderKind = 'openai-chat', permission?: PermissionHook): Promise<HarnessSession> =>
    rig.launch(
      new PiAdapter({ killGraceMs: 500 }),
      {
        agent: AgentSpec.parse({ name: 'docs', prompt: 'You are a test agent.', harness: 'pi', model: MODELS[kind] }),
        provider: {
          anthropicBaseUrl: rig.fake.anthropicBaseUrl,
          anthropicApiKey: 'test-key',
          openaiBaseUrl: rig.fake.openaiBaseUrl,
          openaiApiKey: 'test-key',
        },
      },
      permission,
    );

  it.each<ProviderKind>(['openai-chat', 'openai-responses', 'anthropic'])(
    'runs the scripted shell call after asking the hook, with the shared event shape (%s)',
    async (kind) => {
      rig.fake.script([
        { match: 'RUN', steps: [call('bash', { command: 'echo hi > out.txt' }), { text: 'Wrote out.txt.' }] },
      ]);
      const session = await start(kind);
      await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

      expect(readFileSync(join(rig.workspace, 'out.txt'), 'utf8')).toBe('hi\n');
      expect(rig.asked).toEqual([
        expect.objectContaining({ tool: 'shell', nativeTool: 'bash', input: { command: 'echo hi > out.txt' } }),
      ]);
      expectInOrder(types(), ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage']);
      expect(items().find((i) => i.type === 'tool_call')).toMatchObject({ tool: 'shell', callId: rig.asked[0].callId });
      expect(items().find((i) => i.type === 'command')).toMatchObject({
        argv: ['bash', '-c', 'echo hi > out.txt'],
        exitCode: 0,
      });
      const message = items().find((i) => i.type === 'agent_message') as { text: string; streamId: string };
      expect(message.text).toBe('Wrote out.txt.');
      const deltas = rig.events.flatMap((e) =>
        e.kind === 'delta' && e.delta.type === 'agent_message_delta' ? [e.delta] : [],
      );
      expect(deltas.map((d) => d.text).join('')).toBe('Wrote out.txt.');
      expect(new Set(deltas.map((d) => d.streamId))).toEqual(new Set([message.streamId]));
      const usage = items().filter((i) => i.type === 'usage');
      expect(usage).toHaveLength(2);
      expect(usage[0]).toMatchObject({ model: MODELS[kind], inputTokens: expect.any(Number) });
      expect((usage[0] as { costUsd: number }).costUsd).toBeGreaterThan(0);
      expect(rig.fake.requests.every((r) => r.method === 'POST' && r.api !== null)).toBe(true);
    },
  );

  it('maps write/edit to file_write/file_edit with unified diffs, and failing bash to its exit code', async () => {
    rig.fake.script([
      {
        match: 'FILES',
        steps: [
          call('write', { path: 'a.txt', content: 'one\ntwo\n' }),
          call('edit', { path: 'a.txt', edits: [{ oldText: 'two', newText: 'three' }] }),
          call('bash', { command: 'echo oops; exit 3' }),
          { text: 'Done.' },
        ],
      },
    ]);
    const session = await start();
    await turn(session, 'FILES please');
    expect(readFileSync(join(rig.workspace, 'a.txt'), 'utf8')).toBe('one\nthree\n');
    expect(rig.asked.map((a) => a.tool)).toEqual(['file_write', 'file_edit', 'shell']);
    const changes = items().filter((i) => i.type === 'file_change');
    expect(changes).toEqual([
      { type: 'file_change', path: 'a.txt', diff: expect.stringContaining('+two') },
      { type: 'file_change', path: 'a.txt', diff: expect.stringMatching(/-two\n\+three/) },
    ]);
    expect(items().find((i) => i.type === 'command')).toMatchObject({
      exitCode: 3,
      output: expect.stringContaining('oops'),
    });
  });

  it('a refused call does not run, and the model reads the refusal', async () => {
    rig.fake.script([
      { match: 'DENY', steps: [call('bash', { command: 'echo hi > out.txt' }), { text: 'Understood.' }] },
    ]);
    const session = await start('openai-chat', async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().some((i) => i.type === 'command')).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(JSON.stringify(rig.fake.requests[rig.fake.requests.length - 1].body)).toContain(
      'permission denied: no writes today',
    );
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    cancelStopsTurnsAndCloseEndsTheTree({
      fake: rig.fake,
      workspace: rig.workspace,
      start: () => start(),
      turn,
      items,
      shell: (command) => call('bash', { command }),
      pidOf: (s) => (s as unknown as { proc: { pid: number } }).proc.pid,
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
