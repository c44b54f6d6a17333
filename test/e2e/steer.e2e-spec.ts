import type { Item, RunnerView, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel, type FakeModelStep } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * Steering a running turn, through the whole system (server + runner, sandboxed harness processes): a message sent
 * while the agent runs a command joins that turn where the harness can take input mid-turn (the model reads it in
 * the same turn's next request, and the turn ends once), and waits for a turn of its own where it cannot, as before.
 * The harness is orthogonal to the deployment shape: first mode only.
 */

const agentYaml = (harness: string) => `name: steered
prompt: You are a careful coding assistant.
harness: ${harness}
model: claude-sonnet-4-5
tools: { shell: true, files: true }
`;

const named =
  (name: string, input: (command: string) => unknown) =>
  (command: string): FakeModelStep => ({ toolCalls: [{ name, input: input(command) }] });

/** Each harness, its scripted shell call in its own tool vocabulary, and whether it steers (the capability matrix). */
const HARNESSES: { harness: string; steers: boolean; shell: (command: string) => FakeModelStep }[] = [
  { harness: 'yoke', steers: true, shell: named('shell', (command) => ({ command })) },
  { harness: 'codex', steers: true, shell: named('exec_command', (cmd) => ({ cmd })) },
  { harness: 'pi', steers: true, shell: named('bash', (command) => ({ command })) },
  { harness: 'openai-agents', steers: false, shell: named('shell', (command) => ({ command })) },
];

describe.each(MODES.slice(0, 1))('steering a running turn (%s mode)', (mode) => {
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
  const ended = (log: Item[]) => log.filter((i) => i.type === 'turn_completed' || i.type === 'turn_failed');
  const said = (i: Item, token: string) => i.type === 'user_message' && JSON.stringify(i.content).includes(token);

  it.each(HARNESSES)('$harness: a message sent during a command (steers: $steers)', async ({ harness, steers }) => {
    const first = `STEER-FIRST-${harness}`;
    const second = `STEER-SECOND-${harness}`;
    const target = HARNESSES.find((h) => h.harness === harness)!;
    model.script([
      { match: second, steps: [{ text: 'Heard the second message.' }] },
      // A harness that folds the second message into the command's result stays on this rule (step 3).
      {
        match: first,
        steps: [
          target.shell('sleep 4; echo slept'),
          { text: 'The command ran.' },
          { text: 'Heard the second message.' },
        ],
      },
    ]);
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: agentYaml(harness),
      prompt: `${first}: run the command`,
      workspace: tempDir('yoke-ws'),
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // The command is running: the turn is in flight.
    await expectEventually(async () => (await items(id)).some((i) => i.type === 'tool_call'), 120_000);
    const sent = await stack.api('POST', `/sessions/${id}/messages`, { text: `${second}: also say you heard this` });
    expect(sent.status).toBe(202);

    await expectEventually(async () => ended(await items(id)).length === (steers ? 1 : 2), 180_000);
    await new Promise((r) => setTimeout(r, 3000)); // nothing else runs
    const log = await items(id);
    expect(ended(log).map((i) => i.type)).toEqual(steers ? ['turn_completed'] : ['turn_completed', 'turn_completed']);
    const turns = log.filter((i) => i.type === 'turn_started').map((i) => i.turnId);
    const firstMessage = log.find((i) => said(i, first))!;
    const secondMessages = log.filter((i) => said(i, second));
    expect(secondMessages).toHaveLength(1); // recorded exactly once
    const secondMessage = secondMessages[0];
    expect(secondMessage.actor?.name).toBeTruthy();
    expect(secondMessage.actor).toEqual(firstMessage.actor);
    const requests = model.requests.filter((r) => JSON.stringify(r.body).includes(second));
    expect(requests.length).toBeGreaterThan(0);
    if (steers) {
      // One turn: the second message is an item of it, after the first and before its end, and the model read it in
      // a request of the same conversation, before the turn ended.
      expect(turns).toHaveLength(1);
      expect(secondMessage.turnId).toBe(turns[0]);
      expect(secondMessage.seq).toBeGreaterThan(firstMessage.seq);
      expect(secondMessage.seq).toBeLessThan(ended(log)[0].seq);
      for (const r of requests) expect(JSON.stringify(r.body)).toContain(first);
      expect(log.filter((i) => i.type === 'agent_message').map((i) => i.text)).toContain('Heard the second message.');
    } else {
      // Queued as before: the second message starts the second turn.
      expect(turns).toHaveLength(2);
      expect(secondMessage.turnId).toBe(turns[1]);
      expect(secondMessage.seq).toBeGreaterThan(ended(log)[0].seq);
    }
  });
});
