import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Socket } from 'socket.io-client';
import type { Item, Session, SessionPage, SpawnChildAck } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type RunnerProc, type Stack, startStack } from '../support/stack';

/**
 * Multi-harness workflows: the example lead (examples/multi-harness.yaml, on the built-in harness) delegates three
 * times; each delegation is a child session (parentId = the lead) on its own harness — codex, claude-code, pi — on
 * the same runner, in the lead's workspace, and each child's final answer comes back to the lead as the tool result.
 * Only the runner holding a parent can start its children, and a replayed request never makes a second child.
 */

const EXAMPLE = resolve(__dirname, '../../examples/multi-harness.yaml');

const CHILDREN = [
  {
    agent: 'implementer',
    harness: 'codex',
    token: 'DELEG-CODEX',
    file: 'impl.txt',
    step: { toolCalls: [{ name: 'exec_command', input: { cmd: 'echo implemented > impl.txt' } }] },
    answer: 'Implemented: impl.txt written.',
  },
  {
    agent: 'reviewer',
    harness: 'claude-code',
    token: 'DELEG-CLAUDE',
    file: 'REVIEW.md',
    step: {
      toolCalls: [{ name: 'Bash', input: { command: 'echo reviewed > REVIEW.md', description: 'write the review' } }],
    },
    answer: 'Reviewed: REVIEW.md written.',
  },
  {
    agent: 'writer',
    harness: 'pi',
    token: 'DELEG-PI',
    file: 'DOCS.md',
    step: { toolCalls: [{ name: 'bash', input: { command: 'echo documented > DOCS.md' } }] },
    answer: 'Documented: DOCS.md written.',
  },
];

type ToolCallItem = Item & { type: 'tool_call'; callId: string; tool: string; input: { agent: string } };
type ToolResultItem = Item & { type: 'tool_result'; callId: string; output: string; isError: boolean };

describe('a lead delegates to sub-agents on three harnesses (team mode)', () => {
  let model: FakeModel;
  let stack: Stack;
  let runner: RunnerProc;
  const opened: Socket[] = [];

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('team');
    runner = await stack.startRunner({
      env: {
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        OPENAI_BASE_URL: model.openaiBaseUrl,
        OPENAI_API_KEY: 'test-key',
      },
    });
  });

  afterAll(async () => {
    for (const s of opened) s.close();
    await stack?.stop();
    await model?.close();
  });

  async function history(sessionId: string): Promise<Item[]> {
    const r = await stack.api<{ items: Item[] }>('GET', `/sessions/${sessionId}/items?afterSeq=0`);
    expect(r.status).toBe(200);
    return r.body.items;
  }

  const ended = async (id: string) =>
    (await history(id)).some((i) => i.type === 'turn_completed' || i.type === 'turn_failed');

  async function children(parentId: string): Promise<Session[]> {
    const r = await stack.api<SessionPage>('GET', `/sessions?parentId=${parentId}`);
    expect(r.status).toBe(200);
    return r.body.sessions;
  }

  async function runnerSocket(credential: string): Promise<Socket> {
    const socket = stack.rawRunnerSocket(credential);
    opened.push(socket);
    await new Promise<void>((ok, fail) => {
      socket.once('connect', () => ok());
      socket.once('connect_error', fail);
    });
    return socket;
  }

  const spawn = (socket: Socket, payload: unknown): Promise<SpawnChildAck> =>
    socket.timeout(15_000).emitWithAck('session.spawn_child', payload) as Promise<SpawnChildAck>;

  let parentId = '';
  let workspace = '';
  let calls: ToolCallItem[] = [];

  it('the example completes: three child sessions, each on its harness, answers back to the lead', async () => {
    model.script([
      ...CHILDREN.map((c) => ({ match: c.token, steps: [c.step, { text: c.answer }] })),
      {
        match: 'DELEG-LEAD',
        steps: [
          {
            toolCalls: CHILDREN.map((c) => ({
              name: 'delegate',
              input: { agent: c.agent, prompt: `${c.token}: do your part and write ${c.file}` },
            })),
          },
          { text: 'All three are done.' },
        ],
      },
    ]);
    workspace = tempDir('yoke-ws');
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: readFileSync(EXAMPLE, 'utf8'),
      agentFile: 'multi-harness.yaml',
      prompt: 'DELEG-LEAD: build, review and document the feature',
      workspace,
      runnerId: runner.runnerId,
    });
    expect(created.status).toBe(201);
    parentId = created.body.id;
    expect(created.body.parentId).toBeNull();

    await expectEventually(() => ended(parentId), 600_000, 500);
    const items = await history(parentId);
    expect(items.find((i) => i.type === 'turn_failed')).toBeUndefined();
    expect(items.filter((i) => i.type === 'turn_completed')).toHaveLength(1);

    // Three delegate calls, canonical kind `agent`, each answered with its child's final message.
    calls = items.filter((i): i is ToolCallItem => i.type === 'tool_call');
    expect(calls.map((c) => [c.tool, c.input.agent])).toEqual(CHILDREN.map((c) => ['agent', c.agent]));
    const results = items.filter((i): i is ToolResultItem => i.type === 'tool_result');
    for (const [n, c] of CHILDREN.entries()) {
      const result = results.find((r) => r.callId === calls[n].callId);
      expect(result).toMatchObject({ isError: false, output: c.answer });
    }
    expect(items.filter((i) => i.type === 'agent_message').pop()).toMatchObject({ text: 'All three are done.' });

    // The children: linked to the lead, each on its harness, each turn completed, files in the shared workspace.
    const kids = await children(parentId);
    expect(kids).toHaveLength(3);
    for (const c of CHILDREN) {
      const kid = kids.find((k) => k.harness === c.harness);
      expect(kid).toBeDefined();
      const one = await stack.api<Session>('GET', `/sessions/${kid!.id}`);
      expect(one.body).toMatchObject({ parentId, harness: c.harness, runnerId: runner.runnerId, status: 'idle' });
      const kidItems = await history(kid!.id);
      expect(kidItems.find((i) => i.type === 'turn_failed')).toBeUndefined();
      expect(kidItems.find((i) => i.type === 'turn_completed')).toBeDefined();
      expect(kidItems.find((i) => i.type === 'user_message')).toMatchObject({
        content: [{ type: 'text', text: `${c.token}: do your part and write ${c.file}` }],
      });
      expect(kidItems.find((i) => i.type === 'tool_call')).toMatchObject({ tool: 'shell' });
      expect(kidItems.filter((i) => i.type === 'agent_message').pop()).toMatchObject({ text: c.answer });
      expect(existsSync(join(workspace, c.file))).toBe(true);
    }
    expect(readFileSync(join(workspace, 'impl.txt'), 'utf8')).toBe('implemented\n');
    // The lead itself is not among anyone's children.
    expect((await children(kids[0].id)).length).toBe(0);
  }, 900_000);

  it("cancelling the lead's turn cancels the child it is waiting for", async () => {
    model.hold('child-hold');
    model.script([
      { match: 'DELEG-HOLD', steps: [{ text: 'never sent', holdUntil: 'child-hold' }] },
      {
        match: 'DELEG-STOP',
        steps: [{ toolCalls: [{ name: 'delegate', input: { agent: 'writer', prompt: 'DELEG-HOLD: write docs' } }] }],
      },
    ]);
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: readFileSync(EXAMPLE, 'utf8'),
      prompt: 'DELEG-STOP: document it',
      workspace: tempDir('yoke-ws'),
      runnerId: runner.runnerId,
    });
    expect(created.status).toBe(201);
    const lead = created.body.id;
    await model.waitForHold('child-hold');
    const [child] = await children(lead);
    expect(child).toMatchObject({ parentId: lead, harness: 'pi' });

    expect((await stack.api('POST', `/sessions/${lead}/cancel`, {})).status).toBeLessThan(300);
    await expectEventually(() => ended(lead), 120_000, 200);
    await expectEventually(() => ended(child.id), 120_000, 200);
    expect((await history(lead)).find((i) => i.type === 'turn_completed')).toMatchObject({ stopReason: 'cancelled' });
    expect((await history(child.id)).find((i) => i.type === 'turn_completed')).toMatchObject({
      stopReason: 'cancelled',
    });
    model.release('child-hold');
  });

  it('a replayed request returns the same child; an unknown sub-agent is refused; nothing new is created', async () => {
    expect(calls).toHaveLength(3);
    const socket = await runnerSocket(runner.credential);
    const kids = await children(parentId);
    const again = await spawn(socket, {
      parentId,
      callId: calls[0].callId,
      agent: 'implementer',
      prompt: 'DELEG-CODEX: again',
    });
    expect(again).toMatchObject({ ok: true, created: false });
    expect(kids.map((k) => k.id)).toContain((again as { sessionId: string }).sessionId);

    const unknown = await spawn(socket, { parentId, callId: 'call-x', agent: 'nobody', prompt: 'hello' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'request.invalid' } });
    const malformed = await spawn(socket, { parentId: 'not-a-uuid', callId: '', agent: 'writer' });
    expect(malformed).toMatchObject({ ok: false, error: { code: 'event.invalid' } });
    expect(await children(parentId)).toHaveLength(3);
  });

  it("another runner cannot start a child of this runner's session", async () => {
    const enrolled = await stack.api<{ runnerId: string; credential: string }>(
      'POST',
      '/runners/enrol',
      { token: await stack.enrolmentToken(), name: 'intruder' },
      null,
    );
    expect(enrolled.status).toBe(201);
    const socket = await runnerSocket(enrolled.body.credential);
    const forged = await spawn(socket, { parentId, callId: 'forged-1', agent: 'writer', prompt: 'DELEG-PI: forged' });
    expect(forged).toMatchObject({ ok: false, error: { code: 'session.not_found' } });
    expect(await children(parentId)).toHaveLength(3);
  });
});
