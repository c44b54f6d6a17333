import type { DeltaEvent, Item, JoinAck, Session } from '@yoke/protocol';
import { ItemSequencer } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

/**
 * Team mode: two server replicas share Postgres and Redis. The runner is connected to replica A only; a viewer and
 * the user's REST calls go to replica B. Nothing about the session may live only in one replica's memory.
 */
describe('two server replicas behind one Redis (team mode)', () => {
  let model: FakeModel;
  let stack: Stack;
  let b: Awaited<ReturnType<Stack['startReplica']>>;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('team');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    b = await stack.startReplica();
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  it('a viewer on replica B follows a turn whose runner is on replica A, and inputs sent to B reach the runner', async () => {
    model.script([
      { match: 'FIRST', steps: [{ text: 'streamed through the other replica' }] },
      {
        match: 'SECOND',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo two' } }] }, { text: 'done twice' }],
      },
    ]);
    const created = await b.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('yoke-ws') });
    expect(created.status).toBe(201);
    const id = created.body.id;

    const socket = b.webSocket();
    const delivered: Item[] = [];
    const deltas: DeltaEvent[] = [];
    const seq = new ItemSequencer((i) => delivered.push(i));
    socket.on('session.item', (i: Item) => seq.push(i));
    socket.on('session.delta', (d: DeltaEvent) => deltas.push(d));
    await new Promise<void>((resolve, reject) =>
      socket.on('connect', () =>
        socket.emit('session.join', { sessionId: id, afterSeq: 0 }, (r: JoinAck) =>
          r.ok ? resolve() : reject(new Error(r.error.message)),
        ),
      ),
    );

    expect((await b.api('POST', `/sessions/${id}/messages`, { text: 'FIRST' })).status).toBe(202);
    await expectEventually(() => delivered.some((i) => i.type === 'turn_completed'));
    expect(deltas.map((d) => (d.delta.type === 'agent_message_delta' ? d.delta.text : '')).join('')).toBe(
      'streamed through the other replica',
    );

    expect((await b.api('POST', `/sessions/${id}/messages`, { text: 'SECOND' })).status).toBe(202);
    await expectEventually(() => delivered.filter((i) => i.type === 'turn_completed').length === 2);
    const history = (await stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items`)).body.items;
    expect(delivered).toEqual(history);
    expect((await b.api<Session>('GET', `/sessions/${id}`)).body).toMatchObject({ status: 'idle', runnerOnline: true });
  });
});
