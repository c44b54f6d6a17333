import type { ChatAction } from './chat-state';
import { ChatStore, DELTA_FRAME_MS, ITEM_HOLD_MS, TYPING_FRAME_MS, TYPING_PAUSE_MS } from './chat-store';

const delta = (text: string): ChatAction => ({
  type: 'delta',
  delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's1', text },
});

/**
 * Moves the clock on, then lets the event loop turn once: a frame that ends is drawn after the input waiting
 * (`setImmediate`, left real here).
 */
async function advance(ms: number): Promise<void> {
  jest.advanceTimersByTime(ms);
  await new Promise((resolve) => setImmediate(resolve));
}

/** What each draw showed of the streamed answer. */
function drawnTexts(store: ChatStore): string[] {
  const drawn: string[] = [];
  store.subscribe(() => {
    const last = store.getState().entries.at(-1);
    drawn.push(last && 'text' in last ? last.text : '');
  });
  return drawn;
}

describe('chat store frames', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('draws the first chunk of an answer at once, and the chunks that follow once per frame', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('Hel'));
    expect(drawn).toEqual(['Hel']);
    store.dispatch(delta('lo'));
    store.dispatch(delta(', wor'));
    expect(drawn).toEqual(['Hel']);
    await advance(DELTA_FRAME_MS);
    expect(drawn).toEqual(['Hel', 'Hello, wor']);
    store.dispatch(delta('ld'));
    expect(drawn).toHaveLength(2);
    await advance(DELTA_FRAME_MS);
    expect(drawn).toEqual(['Hel', 'Hello, wor', 'Hello, world']);
    store.close();
  });

  it('after an idle frame, the next chunk is drawn at once again', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('a'));
    await advance(DELTA_FRAME_MS * 3);
    store.dispatch(delta('b'));
    expect(drawn).toEqual(['a', 'ab']);
    store.close();
  });

  it("draws the user's own actions at once, with any chunks the frame held", async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('a'));
    store.dispatch(delta('b'));
    store.dispatch({ type: 'next', model: 'claude-opus-4-1' });
    expect(drawn).toEqual(['a', 'ab']);
    await advance(DELTA_FRAME_MS);
    expect(drawn).toHaveLength(2);
    store.close();
  });

  it('draws the items that start a turn in one frame, within the hold', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(item(1, 'turn_started'));
    store.dispatch(item(2, 'user_message'));
    store.dispatch({ type: 'presence', viewers: [] });
    expect(drawn).toEqual([]);
    await advance(ITEM_HOLD_MS - 1);
    expect(drawn).toEqual([]);
    await advance(1);
    expect(drawn).toEqual(['go']);
    await advance(ITEM_HOLD_MS * 3);
    expect(drawn).toEqual(['go']);
    store.close();
  });

  it('never holds a chunk back for the items: the first chunk draws them with it, at once', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(item(1, 'turn_started'));
    store.dispatch(item(2, 'user_message'));
    await advance(ITEM_HOLD_MS / 2);
    store.dispatch(delta('Hel'));
    expect(drawn).toEqual(['Hel']);
    expect(store.getState().entries.map((e) => e.kind)).toEqual(['user', 'agent']);
    await advance(ITEM_HOLD_MS * 3);
    expect(drawn).toEqual(['Hel']);
    store.close();
  });

  it("a key's frame shows the chunks held so far: the stream draws no frame of its own for them", async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('a'));
    store.dispatch(delta('b'));
    store.typed(); // the view draws the key now, from the state as it is: 'ab'
    await advance(TYPING_FRAME_MS * 2);
    expect(drawn).toEqual(['a']);
    store.dispatch(delta('c'));
    await advance(TYPING_FRAME_MS);
    expect(drawn).toEqual(['a', 'abc']);
    store.close();
  });

  it('while the user types, chunks are drawn at most every TYPING_FRAME_MS; after a pause every DELTA_FRAME_MS', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('a'));
    store.typed();
    store.dispatch(delta('b'));
    await advance(DELTA_FRAME_MS);
    expect(drawn).toEqual(['a']);
    await advance(TYPING_FRAME_MS - DELTA_FRAME_MS);
    expect(drawn).toEqual(['a', 'ab']);
    store.dispatch(delta('c'));
    await advance(TYPING_FRAME_MS - 1);
    expect(drawn).toHaveLength(2);
    await advance(1);
    expect(drawn).toEqual(['a', 'ab', 'abc']);

    await advance(TYPING_PAUSE_MS);
    store.dispatch(delta('d'));
    store.dispatch(delta('e'));
    expect(drawn).toEqual(['a', 'ab', 'abc', 'abcd']);
    await advance(DELTA_FRAME_MS);
    expect(drawn).toEqual(['a', 'ab', 'abc', 'abcd', 'abcde']);
    store.close();
  });

  it('a frame that ends as a key comes is drawn after the key, whose frame shows its chunks', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('a'));
    store.dispatch(delta('b'));
    jest.advanceTimersByTime(DELTA_FRAME_MS); // the frame ends; the key below was read in the same turn of the loop
    store.typed();
    await advance(0);
    expect(drawn).toEqual(['a']);
    store.close();
  });

  it('draws nothing once closed', async () => {
    const store = new ChatStore();
    const drawn = drawnTexts(store);
    store.dispatch(delta('a'));
    store.dispatch(delta('b'));
    store.close();
    await advance(TYPING_PAUSE_MS);
    expect(drawn).toEqual(['a']);
  });
});

/** A `turn_started` or the user's prompt "go", as the session's feed delivers them. */
function item(seq: number, type: 'turn_started' | 'user_message'): ChatAction {
  const base = { seq, sessionId: 's', createdAt: new Date(0).toISOString() };
  return {
    type: 'item',
    item:
      type === 'turn_started'
        ? { ...base, type, turnId: 't1' }
        : { ...base, type, content: [{ type: 'text', text: 'go' }] },
  } as ChatAction;
}
