import {
  type DeltaEvent,
  type EnrolReply,
  HelloAck,
  type Item,
  ItemsAck,
  ItemSequencer,
  ItemsPage,
  JoinAck,
  type Session,
} from '@yoke/protocol';
import type { Socket } from 'socket.io-client';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { connected, type Stack, startStack } from '../support/stack';

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
    socket.on('session.items', (items: Item[]) => seq.pushAll(items));
    socket.on('session.delta', (d: DeltaEvent) => deltas.push(d));
    await new Promise<void>((resolve, reject) =>
      socket.on('connect', () =>
        socket.emit('session.join', { sessionId: id, afterSeq: 0 }, (raw: unknown) => {
          const r = JoinAck.safeParse(raw);
          if (!r.success) reject(r.error);
          else if (r.data.ok) resolve();
          else reject(new Error(r.data.error.message));
        }),
      ),
    );

    expect((await b.api('POST', `/sessions/${id}/messages`, { text: 'FIRST' })).status).toBe(202);
    await expectEventually(() => delivered.some((i) => i.type === 'turn_completed'));
    expect(deltas.map((d) => (d.delta.type === 'agent_message_delta' ? d.delta.text : '')).join('')).toBe(
      'streamed through the other replica',
    );

    expect((await b.api('POST', `/sessions/${id}/messages`, { text: 'SECOND' })).status).toBe(202);
    await expectEventually(() => delivered.filter((i) => i.type === 'turn_completed').length === 2);
    const history = ItemsPage.parse((await stack.api('GET', `/sessions/${id}/items`)).body).items;
    expect(delivered).toEqual(history);
    expect((await b.api<Session>('GET', `/sessions/${id}`)).body).toMatchObject({ status: 'idle', runnerOnline: true });
  });

  it('streams only where someone watches: deltas stay on the relaying replica until a viewer elsewhere joins, who gets the text so far', async () => {
    // A raw runner socket on replica A, so the test decides exactly when each chunk is sent.
    const token = await stack.enrolmentToken();
    const enrol = await stack.api<EnrolReply>('POST', '/runners/enrol', { token, name: 'raw-runner' });
    expect(enrol.status).toBe(201);
    const runner = stack.rawRunnerSocket(enrol.body.credential);
    runner.on('session.input', (_entry: unknown, ack: (r: unknown) => void) => ack({ ok: true, applied: true }));
    await connected(runner);
    expect(HelloAck.parse(await runner.timeout(10_000).emitWithAck('runner.hello', { sessions: [] })).ok).toBe(true);
    const created = await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, runnerId: enrol.body.runnerId });
    expect(created.status).toBe(201);
    const id = created.body.id;
    let n = 0;
    const chunk = (text: string) => {
      n++;
      runner.emit('session.delta', {
        sessionId: id,
        afterSeq: 0,
        delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's1', text },
      } satisfies DeltaEvent);
    };
    const relayed = async (route: 'local' | 'cluster') => {
      const text = await (await fetch(`${stack.url}/metrics`)).text();
      const m = new RegExp(`^yoke_deltas_relayed_total\\{route="${route}"\\} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };

    // Only replica A watches: once A has asked the cluster, chunks no longer go through Redis.
    const onA = await joined(stack.webSocket(), id);
    chunk('one ');
    await expectEventually(() => onA.text() === 'one ');
    const local0 = await relayed('local');
    await expectEventually(async () => {
      chunk('. ');
      return (await relayed('local')) > local0;
    });
    const clusterBefore = await relayed('cluster');
    const sent = n;
    chunk('two ');
    await expectEventually(() => onA.text().endsWith('two '));
    expect(await relayed('cluster')).toBe(clusterBefore);
    expect(await relayed('local')).toBeGreaterThanOrEqual(local0 + n - sent);

    // A viewer on replica B joins mid-stream: the join carries A's partial text, and the next chunks reach it.
    const onB = await joined(b.webSocket(), id);
    expect(onB.partials).toEqual([expect.objectContaining({ streamId: 's1', text: onA.text() })]);
    chunk('three');
    await expectEventually(() => onB.text() === 'three' && onA.text().endsWith('two three'));
    expect(await relayed('cluster')).toBeGreaterThan(clusterBefore);

    // The completed item reaches both; when B's viewer leaves, A stops sending chunks through Redis.
    const reply = ItemsAck.parse(
      await runner.timeout(10_000).emitWithAck('session.items', {
        sessionId: id,
        items: [
          {
            seq: created.body.lastSeq + 1,
            createdAt: new Date().toISOString(),
            type: 'agent_message',
            streamId: 's1',
            turnId: 't1',
            text: onA.text(),
          },
        ],
      }),
    );
    expect(reply.ok).toBe(true);
    await expectEventually(
      () => onB.items.some((i) => i.type === 'agent_message') && onA.items.some((i) => i.type === 'agent_message'),
    );
    onB.socket.close();
    const clusterAfterLeave = await expectEventually(async () => {
      const before = await relayed('cluster');
      chunk('.');
      await new Promise((r) => setTimeout(r, 100));
      return (await relayed('cluster')) === before ? before : false;
    });
    chunk('four');
    await expectEventually(() => onA.text().endsWith('four'));
    expect(await relayed('cluster')).toBe(clusterAfterLeave);
    runner.close();
  });

  it("a token revoked on replica A is refused by replica B at once, not when B's cached entry expires", async () => {
    const created = await stack.api<{ id: string; token: string }>('POST', '/tokens', { name: 'short-lived' });
    expect(created.status).toBe(201);
    const { id, token } = created.body;
    // B resolves the token and caches it (for up to 5 s, PRINCIPAL_TTL_MS).
    expect((await b.api('GET', '/me', undefined, token)).status).toBe(200);
    expect((await b.api('GET', '/sessions', undefined, token)).status).toBe(200);
    expect((await stack.api('DELETE', `/tokens/${id}`)).status).toBe(204);
    // A told B over Redis: refused well within the TTL (polled for 1.5 s; B's cache alone would answer 200 for 5 s).
    const revokedAt = Date.now();
    let status = 0;
    while (Date.now() - revokedAt < 1_500) {
      status = (await b.api('GET', '/sessions', undefined, token)).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    // The admin's own token, cached on B too, still works there: only what changed is refused.
    expect((await b.api('GET', '/sessions')).status).toBe(200);
  });
});

/** A /web socket joined to a session: the join's partial items, the chunks and items it received since. */
async function joined(socket: Socket, sessionId: string) {
  const chunks: string[] = [];
  const items: Item[] = [];
  socket.on('session.delta', (d: DeltaEvent) => chunks.push(d.delta.text));
  socket.on('session.items', (batch: Item[]) => items.push(...batch));
  await connected(socket);
  const ack = JoinAck.parse(await socket.timeout(10_000).emitWithAck('session.join', { sessionId, afterSeq: 0 }));
  if (!ack.ok) throw new Error(ack.error.message);
  return { socket, partials: ack.partials, items, text: () => chunks.join('') };
}
