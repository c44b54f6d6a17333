import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Item, RunnerView, Session } from '@yoke/protocol';
import { type FakeModel, startFakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = `name: switcher
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
`;

/**
 * Switching harness and model from the next turn (`POST /sessions/:id/messages` with `harness` / `model`): the server
 * records the switch on the session at once (and every viewer hears `session.updated`), the runner closes the yoke
 * harness and starts codex for that turn, which then produces the turn's items; a notice says so and by whom. An
 * unknown harness is a 422 and queues nothing. The harness is orthogonal to the deployment shape: first mode only.
 */
describe.each(MODES.slice(0, 1))('switching harness and model from the next turn (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack(mode);
    const runner = await stack.startRunner({
      env: {
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        OPENAI_BASE_URL: model.openaiBaseUrl,
        OPENAI_API_KEY: 'test-key',
      },
    });
    // Sessions are placed on an online runner: wait until the server counts this one as online.
    await expectEventually(
      async () =>
        (await stack.api<RunnerView[]>('GET', '/runners')).body.find((r) => r.id === runner.runnerId)?.online === true,
    );
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  const items = async (id: string) =>
    (await stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items?afterSeq=0&limit=1000`)).body.items;
  const turnsEnded = async (id: string) =>
    (await items(id)).filter((i) => i.type === 'turn_completed' || i.type === 'turn_failed').length;

  it('a yoke session switches to codex: the session says so at once and the next turn runs on codex', async () => {
    model.script([
      {
        match: 'ON-YOKE',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo yoke >> who.txt' } }] },
          { text: 'yoke did it' },
        ],
      },
      {
        match: 'ON-CODEX',
        steps: [
          { toolCalls: [{ name: 'exec_command', input: { cmd: 'echo codex >> who.txt' } }] },
          { text: 'codex did it' },
        ],
      },
    ]);
    const ws = tempDir('yoke-ws');
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: AGENT,
      prompt: 'ON-YOKE: say who you are',
      workspace: ws,
    });
    expect({ status: created.status, body: created.body }).toMatchObject({ status: 201 });
    const id = created.body.id;
    await expectEventually(async () => (await turnsEnded(id)) === 1, 120_000);

    const viewer = stack.webSocket();
    const updates: Session[] = [];
    viewer.on('session.updated', (s: Session) => updates.push(s));
    await new Promise<void>((resolve) =>
      viewer.on('connect', () => viewer.emit('session.join', { sessionId: id, afterSeq: 0 }, () => resolve())),
    );

    // An unknown harness: refused, nothing queued, the session unchanged.
    const bad = await stack.api<{ code: string; message: string }>('POST', `/sessions/${id}/messages`, {
      text: 'NEVER-SENT',
      harness: 'emacs',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('harness.unknown');
    expect(bad.body.message).toMatch(/unknown harness "emacs"/);

    const sent = await stack.api('POST', `/sessions/${id}/messages`, {
      text: 'ON-CODEX: say who you are',
      harness: 'codex',
      model: 'gpt-5-codex',
    });
    expect(sent.status).toBe(202);
    // Recorded at once, for every viewer.
    expect((await stack.api<Session>('GET', `/sessions/${id}`)).body).toMatchObject({
      harness: 'codex',
      model: 'gpt-5-codex',
    });
    await expectEventually(() => updates.some((s) => s.harness === 'codex' && s.model === 'gpt-5-codex'));

    await expectEventually(async () => (await turnsEnded(id)) === 2, 180_000);
    const log = await items(id);
    expect(log.find((i) => i.type === 'turn_failed')).toBeUndefined();
    expect(log.some((i) => i.type === 'user_message' && JSON.stringify(i.content).includes('NEVER-SENT'))).toBe(false);
    const turns = log.filter((i) => i.type === 'turn_started').map((i) => i.turnId);
    expect(turns).toHaveLength(2);
    const second = log.filter((i) => i.turnId === turns[1]);
    expect(second.map((i) => i.type).slice(0, 3)).toEqual(['turn_started', 'notice', 'user_message']);
    expect(second[1]).toMatchObject({
      type: 'notice',
      level: 'info',
      text: expect.stringMatching(/^harness switched to codex, model gpt-5-codex; it starts fresh.* by /),
    });
    expect(second[1].actor?.name).toBeTruthy();
    // The turn's items come from codex: its native tool, its answer.
    const first = log.filter((i) => i.turnId === turns[0]);
    expect(first.find((i) => i.type === 'tool_call')).toMatchObject({ tool: 'shell', nativeTool: 'shell' });
    expect(second.find((i) => i.type === 'tool_call')).toMatchObject({ tool: 'shell', nativeTool: 'commandExecution' });
    expect(second.find((i) => i.type === 'agent_message')).toMatchObject({ text: 'codex did it' });
    expect(readFileSync(join(ws, 'who.txt'), 'utf8')).toBe('yoke\ncodex\n');
    // Codex called the model over OpenAI's API with the new model; yoke had used Anthropic's.
    const onCodex = model.requests.filter((r) => JSON.stringify(r.body).includes('ON-CODEX'));
    expect(onCodex.length).toBeGreaterThan(0);
    for (const r of onCodex) {
      expect(r.api).toMatch(/^openai/);
      expect(r.body).toMatchObject({ model: 'gpt-5-codex' });
    }
  });
});
