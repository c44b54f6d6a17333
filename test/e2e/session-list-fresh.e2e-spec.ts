import type { Item, ItemsAck, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { connected, type RunnerProc, type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nharness: yoke\nmodel: claude-sonnet-4-5\n';

/**
 * Session lists get `session.updated` when a batch changes the session, and otherwise at most once a second per
 * session. A burst of batches that change nothing but the last seq still ends with a copy that has every item: the
 * list never stays behind what is stored.
 */
describe.each(MODES)('a watched session list ends on the stored session (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;
  let runner: RunnerProc;

  beforeAll(async () => {
    model = await startFakeModel();
    model.script([{ match: 'HELLO', steps: [{ text: 'Hi.' }] }]);
    stack = await startStack(mode);
    runner = await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  it('a burst of batches inside the update interval is followed by a copy with the last seq', async () => {
    const s = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, prompt: 'HELLO' })).body;
    const items = await expectEventually(async () => {
      const all = (await stack.api<{ items: Item[] }>('GET', `/sessions/${s.id}/items`)).body.items;
      return all.some((i) => i.type === 'turn_completed') ? all : null;
    });
    const watcher = stack.webSocket();
    const updates: Session[] = [];
    watcher.on('session.updated', (u: Session) => u.id === s.id && updates.push(u));
    await new Promise<void>((resolve) =>
      watcher.on('connect', () => watcher.emit('sessions.watch', {}, () => resolve())),
    );

    const raw = stack.rawRunnerSocket(runner.credential);
    await connected(raw);
    let seq = items.length;
    for (let k = 0; k < 4; k++) {
      seq += 1;
      const ack = (await raw.timeout(10_000).emitWithAck('session.items', {
        sessionId: s.id,
        items: [{ seq, createdAt: new Date().toISOString(), type: 'notice', level: 'info', text: `note ${k}` }],
      })) as ItemsAck;
      expect(ack).toEqual({ ok: true, lastSeq: seq });
    }
    // The stored session and the last copy the list got agree, within the interval.
    expect((await stack.api<Session>('GET', `/sessions/${s.id}`)).body.lastSeq).toBe(seq);
    await expectEventually(() => updates.at(-1)?.lastSeq === seq, 5_000);
    raw.close();
    watcher.close();
  });
});
