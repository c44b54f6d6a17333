import type { Delta, Item, ItemsPage, PartialItem, Session } from '@yoke/protocol';
import { SessionFeed, type FeedPhase, type FeedSink } from './session-feed';
import type { FeedSocket } from './session-feed';
import { makeNotice, makeSession, SESSION_ID } from './testing/fixtures';

type Handler = (...args: unknown[]) => void;

/** Just enough of a socket.io client: events in, acks answered by the test. */
class FakeSocket {
  connected = true;
  readonly joins: { payload: { sessionId: string; afterSeq: number }; reply: (r: unknown) => void }[] = [];
  readonly emitted: string[] = [];
  private readonly handlers = new Map<string, Set<Handler>>();

  on(event: string, fn: Handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(fn);
    return this;
  }
  off(event: string, fn: Handler) {
    this.handlers.get(event)?.delete(fn);
    return this;
  }
  emit(event: string) {
    this.emitted.push(event);
    return this;
  }
  timeout() {
    return {
      emitWithAck: (_event: string, payload: { sessionId: string; afterSeq: number }) =>
        new Promise((reply) => this.joins.push({ payload, reply })),
    };
  }
  fire(event: string, ...args: unknown[]) {
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args);
  }
  listenerCount(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
}

function recorder() {
  const seqs: number[] = [];
  const deltas: Delta[] = [];
  const seeds: { partials: PartialItem[]; buffered: Delta[] }[] = [];
  const phases: FeedPhase['phase'][] = [];
  let session: Session | null = null;
  const sink: FeedSink = {
    items: (items: Item[]) => seqs.push(...items.map((i) => i.seq)),
    delta: (d) => deltas.push(d),
    seed: (partials, buffered) => seeds.push({ partials, buffered }),
    session: (s) => (session = s),
    phase: (p) => phases.push(p.phase),
    historyError: () => undefined,
  };
  return { sink, seqs, deltas, seeds, phases, session: () => session };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const noHistory = async (): Promise<ItemsPage> => ({ items: [], lastSeq: 0, hasMore: false });
const ok = (items: Item[], hasMore = false, partials: PartialItem[] = []) => ({
  ok: true,
  session: makeSession(),
  items,
  partials,
  hasMore,
});
const d = (text: string): Delta => ({ type: 'agent_message_delta', turnId: 't', streamId: 's', text });

describe('SessionFeed', () => {
  it('delivers live items racing the join reply exactly once, in order', async () => {
    const socket = new FakeSocket();
    const r = recorder();
    new SessionFeed(SESSION_ID, r.sink, noHistory).attach(socket as unknown as FeedSocket);
    expect(socket.joins[0].payload).toEqual({ sessionId: SESSION_ID, afterSeq: 0 });
    socket.fire('session.items', [makeNotice(3)]);
    socket.fire('session.items', [makeNotice(2)]);
    socket.joins[0].reply(ok([1, 2, 3].map((n) => makeNotice(n))));
    await flush();
    socket.fire('session.items', [makeNotice(3)]);
    socket.fire('session.items', [makeNotice(4)]);
    socket.fire('session.items', [makeNotice(5, '00000000-0000-4000-8000-0000000000ff')]);
    expect(r.seqs).toEqual([1, 2, 3, 4]);
    expect(r.session()?.id).toBe(SESSION_ID);
    expect(r.phases.at(-1)).toBe('live');
  });

  it("delivers a stored batch's items from one event in order; another session's item and a non-array are ignored", async () => {
    const socket = new FakeSocket();
    const r = recorder();
    new SessionFeed(SESSION_ID, r.sink, noHistory).attach(socket as unknown as FeedSocket);
    socket.joins[0].reply(ok([makeNotice(1)]));
    await flush();
    socket.fire('session.items', [makeNotice(2), makeNotice(3, '00000000-0000-4000-8000-0000000000ff'), makeNotice(3)]);
    socket.fire('session.items', makeNotice(4));
    socket.fire('session.items', [makeNotice(4), makeNotice(5)]);
    expect(r.seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('pages in history when the join has more, then rejoins from last after a reconnect', async () => {
    const socket = new FakeSocket();
    const r = recorder();
    const pages: Record<number, ItemsPage> = {
      2: { items: [3, 4].map((n) => makeNotice(n)), lastSeq: 4, hasMore: true },
      4: { items: [makeNotice(5)], lastSeq: 5, hasMore: false },
    };
    const load = jest.fn(async (_id: string, after: number) => pages[after]);
    new SessionFeed(SESSION_ID, r.sink, load).attach(socket as unknown as FeedSocket);
    socket.joins[0].reply(
      ok(
        [1, 2].map((n) => makeNotice(n)),
        true,
      ),
    );
    await flush();
    await flush();
    expect(load.mock.calls.map((c) => c[1])).toEqual([2, 4]);
    expect(r.seqs).toEqual([1, 2, 3, 4, 5]);

    socket.connected = false;
    socket.fire('disconnect', 'transport close');
    socket.connected = true;
    socket.fire('connect');
    expect(socket.joins[1].payload.afterSeq).toBe(5);
    socket.fire('session.delta', { sessionId: SESSION_ID, afterSeq: 5, delta: d('lo') });
    const partial: PartialItem = {
      type: 'agent_message_delta',
      turnId: 't',
      streamId: 's',
      afterSeq: 5,
      text: 'Hello',
    };
    socket.joins[1].reply(ok([makeNotice(6)], false, [partial]));
    await flush();
    expect(r.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.seeds.at(-1)).toEqual({ partials: [partial], buffered: [d('lo')] });
    socket.fire('session.delta', { sessionId: SESSION_ID, afterSeq: 6, delta: d('!') });
    expect(r.deltas).toEqual([d('!')]);
  });

  it('fills a gap in live items from history', async () => {
    const socket = new FakeSocket();
    const r = recorder();
    const load = jest.fn(async () => ({ items: [makeNotice(2)], lastSeq: 3, hasMore: false }));
    new SessionFeed(SESSION_ID, r.sink, load).attach(socket as unknown as FeedSocket);
    socket.joins[0].reply(ok([makeNotice(1)]));
    await flush();
    socket.fire('session.items', [makeNotice(3)]);
    await flush();
    expect(load).toHaveBeenCalledWith(SESSION_ID, 1, expect.anything());
    expect(r.seqs).toEqual([1, 2, 3]);
  });

  it('reports a refused join and detaches cleanly', async () => {
    const socket = new FakeSocket();
    const r = recorder();
    const detach = new SessionFeed(SESSION_ID, r.sink, noHistory).attach(socket as unknown as FeedSocket);
    socket.joins[0].reply({ ok: false, error: { code: 'session.not_found', message: 'no such session' } });
    await flush();
    expect(r.phases.at(-1)).toBe('refused');
    detach();
    expect(socket.listenerCount()).toBe(0);
    expect(socket.emitted).toContain('session.leave');
  });

  it('reads history when a chunk waits too long for its item (the live push was lost), then shows the chunk', async () => {
    jest.useFakeTimers();
    try {
      const socket = new FakeSocket();
      const r = recorder();
      const load = jest.fn(async () => ({ items: [makeNotice(2)], lastSeq: 2, hasMore: false }));
      new SessionFeed(SESSION_ID, r.sink, load).attach(socket as unknown as FeedSocket);
      socket.joins[0].reply(ok([makeNotice(1)]));
      await jest.advanceTimersByTimeAsync(0);
      socket.fire('session.delta', { sessionId: SESSION_ID, afterSeq: 2, delta: d('after two') });
      await jest.advanceTimersByTimeAsync(1_000);
      expect(r.deltas).toEqual([]);
      expect(load).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(600);
      expect(load).toHaveBeenCalledWith(SESSION_ID, 1, expect.anything());
      expect(r.seqs).toEqual([1, 2]);
      expect(r.deltas).toEqual([d('after two')]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not read history for a waiting chunk whose item arrives in time', async () => {
    jest.useFakeTimers();
    try {
      const socket = new FakeSocket();
      const r = recorder();
      const load = jest.fn(noHistory);
      new SessionFeed(SESSION_ID, r.sink, load).attach(socket as unknown as FeedSocket);
      socket.joins[0].reply(ok([makeNotice(1)]));
      await jest.advanceTimersByTimeAsync(0);
      socket.fire('session.delta', { sessionId: SESSION_ID, afterSeq: 2, delta: d('x') });
      socket.fire('session.items', [makeNotice(2)]);
      expect(r.deltas).toEqual([d('x')]);
      await jest.advanceTimersByTimeAsync(2_000);
      expect(load).not.toHaveBeenCalled();
    } finally {
      jest.useRealTimers();
    }
  });
});
