import { type FeedSocket, parseItemsPage, SessionFeed } from '@yoke/client';
import type { Delta, DeltaEvent, Item, Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { runCli, tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
/** How late the slow viewer gets each item: far longer than a stream of the next step takes to start. */
const ITEM_DELAY_MS = 400;

/**
 * A viewer on a slow path: every item reaches it ITEM_DELAY_MS late while streamed chunks come at once, the way a
 * chunk overtakes items that are still being stored. The socket is the real one; only its item events are delayed.
 */
function delayingItems(socket: FeedSocket): FeedSocket {
  const wrapped = new Map<unknown, (...args: unknown[]) => void>();
  return new Proxy(socket, {
    get(target, prop, receiver) {
      if (prop === 'on') {
        return (event: string, fn: (...args: unknown[]) => void) => {
          if (event !== 'session.items') return target.on(event as never, fn as never);
          const late = (...args: unknown[]) => setTimeout(() => fn(...args), ITEM_DELAY_MS);
          wrapped.set(fn, late);
          return target.on(event as never, late as never);
        };
      }
      if (prop === 'off') {
        return (event: string, fn: (...args: unknown[]) => void) =>
          target.off(event as never, (wrapped.get(fn) ?? fn) as never);
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Delta order on every screen: a chunk is shown only after the item it follows, however late items arrive. */
describe('streamed chunks never overtake the items before them', () => {
  let model: FakeModel;
  let stack: Stack;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  it('a viewer whose items are delayed still sees the tool call, its output and usage before the next answer streams', async () => {
    model.script([
      {
        match: 'ORDER',
        steps: [
          { text: 'First I look at the files.', toolCalls: [{ name: 'shell', input: { command: 'echo step-one' } }] },
          // Streamed over ~2 s: the items before it reach the slow viewer (400 ms late) while it still streams. A
          // stream that ended first would come in the same batch as the item completing it, whose text replaces
          // its chunks (they are then never shown, which is right, and would leave nothing here to check).
          {
            text: 'Then I answer, after the command and its output, in one long streamed reply.',
            chunks: 20,
            chunkIntervalMs: 100,
          },
        ],
      },
    ]);
    const session = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws') }))
      .body;

    // What the slow viewer's screen gets, in order; and the chunks as the runner stamped them (a plain socket).
    const screen: string[] = [];
    const raw: DeltaEvent[] = [];
    let phase = 'joining';
    const plain = stack.webSocket();
    plain.on('session.delta', (e: DeltaEvent) => raw.push(e));
    await plain.timeout(10_000).emitWithAck('session.join', { sessionId: session.id, afterSeq: 0 });
    const feed = new SessionFeed(
      session.id,
      {
        items: (items) => items.forEach((i) => screen.push(`item ${i.seq} ${i.type}`)),
        delta: (d) => screen.push(`delta ${d.streamId}`),
        seed: (partials, buffered) => {
          if (partials.length + buffered.length) screen.push('seed');
        },
        session: () => undefined,
        phase: (p) => (phase = p.phase),
        historyError: (message) => {
          if (message) screen.push(`history error ${message}`);
        },
      },
      async (id, after) => parseItemsPage((await stack.api('GET', `/sessions/${id}/items?afterSeq=${after}`)).body, id),
    );
    const detach = feed.attach(delayingItems(stack.webSocket() as unknown as FeedSocket));
    await expectEventually(() => phase === 'live');

    expect((await stack.api('POST', `/sessions/${session.id}/messages`, { text: 'ORDER please' })).status).toBe(202);
    await expectEventually(() => screen.some((l) => l.endsWith('turn_completed')), 30_000);
    detach();
    plain.close();

    const history = (await stack.api<{ items: Item[] }>('GET', `/sessions/${session.id}/items`)).body.items;
    const messages = history.filter((i) => i.type === 'agent_message');
    expect(messages.map((m) => (m.type === 'agent_message' ? m.text : ''))).toEqual([
      'First I look at the files.',
      'Then I answer, after the command and its output, in one long streamed reply.',
    ]);
    const second = messages[1].type === 'agent_message' ? messages[1].streamId : undefined;
    const command = history.find((i) => i.type === 'command');
    expect(second && command).toBeTruthy();

    // The runner stamps the second answer's chunks after the command (and everything before it).
    const stamped = raw.filter((e) => e.delta.streamId === second);
    expect(stamped.length).toBeGreaterThan(0);
    expect(Math.min(...stamped.map((e) => e.afterSeq))).toBeGreaterThanOrEqual(command!.seq);

    // The slow viewer showed every item once, in seq order, and each chunk after the items it follows.
    const shownItems = screen.filter((l) => l.startsWith('item ')).map((l) => Number(l.split(' ')[1]));
    expect(shownItems).toEqual(history.map((i) => i.seq));
    const firstChunk = screen.indexOf(`delta ${second}`);
    expect(firstChunk).toBeGreaterThan(-1);
    const before = new Set(screen.slice(0, firstChunk).filter((l) => l.startsWith('item ')));
    for (const item of history.filter((i) => i.seq <= stamped[0].afterSeq)) {
      expect(before).toContain(`item ${item.seq} ${item.type}`);
    }
    expect(before).toContain(`item ${command!.seq} command`);
    // And no chunk of the second answer after the item that completes it.
    const completed = screen.indexOf(`item ${messages[1].seq} agent_message`);
    expect(screen.lastIndexOf(`delta ${second}`)).toBeLessThan(completed);
  });

  it('`yoke attach --json --deltas` prints each chunk as a line after the item it follows, and none after its answer', async () => {
    model.script([
      { match: 'WARM', steps: [{ text: 'Ready.' }] },
      {
        match: 'LINES',
        steps: [
          { text: 'Checking first.', toolCalls: [{ name: 'shell', input: { command: 'echo lines-step' } }] },
          // Paced: the server sends chunks that reach it in one turn of its event loop as one (a backlog after a pause),
          // so chunks streamed back to back could arrive at a loaded machine as a single line.
          { text: 'The answer arrives in many small chunks, one line each.', chunks: 12, chunkIntervalMs: 40 },
        ],
      },
    ]);
    const session = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws') }))
      .body;
    expect((await stack.api('POST', `/sessions/${session.id}/messages`, { text: 'WARM up' })).status).toBe(202);
    await expectEventually(
      async () => (await stack.api<Session>('GET', `/sessions/${session.id}`)).body.status === 'idle',
      30_000,
    );

    // The attach has joined once it has printed the history; the next turn is then all live.
    let posted = false;
    const out = await runCli(
      ['attach', session.id, '--json', '--deltas', '--server', stack.url],
      { YOKE_TOKEN: stack.token, HOME: tempDir('home') },
      60_000,
      (stdout) => {
        if (!posted && stdout.includes('"turn_completed"')) {
          posted = true;
          void stack.api('POST', `/sessions/${session.id}/messages`, { text: 'LINES please' });
        }
        return stdout.split('"turn_completed"').length > 2;
      },
    );
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Item | { delta: Delta });
    const items = lines.filter((l): l is Item => !('delta' in l));
    const answer = items.filter((i) => i.type === 'agent_message').at(-1);
    if (answer?.type !== 'agent_message') throw new Error(`no answer in: ${out.stdout.slice(-600)}`);
    expect(answer.text).toBe('The answer arrives in many small chunks, one line each.');

    const chunks = lines.flatMap((l, at) => ('delta' in l && l.delta.streamId === answer.streamId ? [at] : []));
    expect(chunks.length).toBeGreaterThan(1);
    const text = chunks.map((at) => {
      const d = (lines[at] as { delta: Delta }).delta;
      return 'text' in d ? d.text : '';
    });
    expect(text.join('')).toBe(answer.text);
    // The step before the answer (its text and the command it ran) is printed above the answer's first chunk, and no
    // chunk comes after the item that completes the answer.
    const lineOf = (item: Item) => lines.indexOf(item);
    const command = items.find((i) => i.type === 'command');
    expect(command).toBeDefined();
    const first = items.find((i) => i.type === 'agent_message' && i.text === 'Checking first.');
    expect(first).toBeDefined();
    expect(lineOf(first!)).toBeLessThan(Math.min(...chunks));
    expect(lineOf(command!)).toBeLessThan(Math.min(...chunks));
    expect(Math.max(...chunks)).toBeLessThan(lineOf(answer));
  });
});
