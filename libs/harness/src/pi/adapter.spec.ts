import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec, type ItemBody, type ProviderKind } from '@yoke/protocol';
import { startFakeModel, type FakeModel, type FakeModelStep } from '../../../../test/fixtures/fake-model';
import type { HarnessEvent, HarnessSession, PermissionHook, PermissionRequest } from '../adapter';
import { PiAdapter, piModelsConfig } from './adapter';
import { cancelStopsTurnsAndCloseEndsTheTree, expectInOrder } from '../../test/adapter-kit';

jest.setTimeout(30_000);

const actor = { id: 'u1', name: 'Ada' };
const MODELS: Record<ProviderKind, string> = {
  anthropic: 'claude-sonnet-4-5',
  'openai-responses': 'gpt-5',
  'openai-chat': 'gpt-4o',
};

const call = (name: string, input: unknown): FakeModelStep => ({ toolCalls: [{ name, input }] });

describe('PiAdapter (pi --mode rpc against the fake model)', () => {
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
    root = mkdtempSync(join(tmpdir(), 'yoke-pi-'));
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
    kind: ProviderKind = 'openai-chat',
    permission: PermissionHook = async () => ({ behavior: 'allow' }),
  ): Promise<HarnessSession> {
    const session = await new PiAdapter({ killGraceMs: 500 }).start({
      sessionId: 's1',
      agent: AgentSpec.parse({ name: 'docs', prompt: 'You are a test agent.', harness: 'pi', model: MODELS[kind] }),
      model: null,
      workspace,
      stateDir: join(root, 'state'),
      provider: {
        anthropicBaseUrl: fake.anthropicBaseUrl,
        anthropicApiKey: 'test-key',
        openaiBaseUrl: fake.openaiBaseUrl,
        openaiApiKey: 'test-key',
      },
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

  it.each<ProviderKind>(['openai-chat', 'openai-responses', 'anthropic'])(
    'runs the scripted shell call after asking the hook, with the shared event shape (%s)',
    async (kind) => {
      fake.script([
        { match: 'RUN', steps: [call('bash', { command: 'echo hi > out.txt' }), { text: 'Wrote out.txt.' }] },
      ]);
      const session = await start(kind);
      await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

      expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('hi\n');
      expect(asked).toEqual([
        expect.objectContaining({ tool: 'shell', nativeTool: 'bash', input: { command: 'echo hi > out.txt' } }),
      ]);
      expectInOrder(types(), ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage']);
      expect(items().find((i) => i.type === 'tool_call')).toMatchObject({ tool: 'shell', callId: asked[0].callId });
      expect(items().find((i) => i.type === 'command')).toMatchObject({
        argv: ['bash', '-c', 'echo hi > out.txt'],
        exitCode: 0,
      });
      const message = items().find((i) => i.type === 'agent_message') as { text: string; streamId: string };
      expect(message.text).toBe('Wrote out.txt.');
      const deltas = events.flatMap((e) =>
        e.kind === 'delta' && e.delta.type === 'agent_message_delta' ? [e.delta] : [],
      );
      expect(deltas.map((d) => d.text).join('')).toBe('Wrote out.txt.');
      expect(new Set(deltas.map((d) => d.streamId))).toEqual(new Set([message.streamId]));
      const usage = items().filter((i) => i.type === 'usage');
      expect(usage).toHaveLength(2);
      expect(usage[0]).toMatchObject({ model: MODELS[kind], inputTokens: expect.any(Number) });
      expect((usage[0] as { costUsd: number }).costUsd).toBeGreaterThan(0);
      expect(fake.requests.every((r) => r.method === 'POST' && r.api !== null)).toBe(true);
    },
  );

  it('maps write/edit to file_write/file_edit with unified diffs, and failing bash to its exit code', async () => {
    fake.script([
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
    expect(readFileSync(join(workspace, 'a.txt'), 'utf8')).toBe('one\nthree\n');
    expect(asked.map((a) => a.tool)).toEqual(['file_write', 'file_edit', 'shell']);
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
    fake.script([{ match: 'DENY', steps: [call('bash', { command: 'echo hi > out.txt' }), { text: 'Understood.' }] }]);
    const session = await start('openai-chat', async () => ({ behavior: 'deny', reason: 'no writes today' }));
    await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
    expect(existsSync(join(workspace, 'out.txt'))).toBe(false);
    expect(items().some((i) => i.type === 'command')).toBe(false);
    expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: 'permission denied: no writes today',
    });
    expect(JSON.stringify(fake.requests[fake.requests.length - 1].body)).toContain(
      'permission denied: no writes today',
    );
  });

  it('cancel stops a held model call and a running command; the next turn works; close ends the tree', () =>
    cancelStopsTurnsAndCloseEndsTheTree({
      fake,
      workspace,
      start: () => start(),
      turn,
      items,
      shell: (command) => call('bash', { command }),
      pidOf: (s) => (s as unknown as { proc: { pid: number } }).proc.pid,
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

  it('points models.json at the runner endpoint for each wire API, with the key in an env var', () => {
    const env = {
      anthropicBaseUrl: 'http://127.0.0.1:1',
      openaiBaseUrl: 'http://127.0.0.1:1/v1',
      openaiApiKey: 'sk-secret-123',
    };
    const of = (kind: ProviderKind) =>
      (piModelsConfig('m', kind, env) as { providers: { yoke: Record<string, unknown> } }).providers.yoke;
    expect(of('anthropic')).toMatchObject({
      baseUrl: 'http://127.0.0.1:1',
      api: 'anthropic-messages',
      apiKey: 'YOKE_PI_API_KEY',
    });
    expect(of('openai-responses')).toMatchObject({ baseUrl: 'http://127.0.0.1:1/v1', api: 'openai-responses' });
    expect(of('openai-chat')).toMatchObject({ api: 'openai-completions', compat: { supportsDeveloperRole: false } });
    expect(JSON.stringify(piModelsConfig('m', 'openai-chat', env))).not.toContain('sk-secret-123');
    expect(() => piModelsConfig('m', 'anthropic', {})).toThrow('ANTHROPIC_API_KEY is not set on this runner');
  });
});
