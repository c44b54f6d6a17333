import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProviderKind } from '@yoke/protocol';
import type { FakeModelStep } from '../../../../test/fixtures/fake-model';
import type { HarnessSession, PermissionHook } from '../adapter';
import { PiAdapter } from './adapter';
import { adapterRig, testAgent } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const MODELS: Record<ProviderKind, string> = {
  anthropic: 'claude-sonnet-4-5',
  'openai-responses': 'gpt-5',
  'openai-chat': 'gpt-4o',
};

const call = (name: string, input: unknown): FakeModelStep => ({ toolCalls: [{ name, input }] });
const bash = (command: string) => call('bash', { command });

describe('PiAdapter (pi --mode rpc against the fake model)', () => {
  const rig = adapterRig('pi');
  const { turn, items } = rig;

  const start = (kind: ProviderKind = 'openai-chat', permission?: PermissionHook): Promise<HarnessSession> =>
    rig.launch(
      new PiAdapter({ killGraceMs: 500 }),
      {
        agent: testAgent({ name: 'docs', harness: 'pi', model: MODELS[kind] }),
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
      await rig.expectShellTurn({
        start: () => start(kind),
        shell: bash,
        ask: { nativeTool: 'bash', input: { command: 'echo hi > out.txt' } },
        order: ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage'],
        call: { tool: 'shell' },
      });
      expect(items().find((i) => i.type === 'command')).toMatchObject({
        argv: ['bash', '-c', 'echo hi > out.txt'],
        exitCode: 0,
      });
      rig.expectStreamed('Wrote out.txt.', true);
      rig.expectUsage(MODELS[kind], 2);
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
    await rig.expectRefusedTurn((permission) => start('openai-chat', permission), bash);
    expect(JSON.stringify(rig.fake.requests[rig.fake.requests.length - 1].body)).toContain(
      'permission denied: no writes today',
    );
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    rig.expectCancelAndClose({
      start: () => start(),
      shell: bash,
      refusesAfterClose: true,
    }));

  it('a new session on the same state continues the conversation', () => rig.expectResumes(start));
});
