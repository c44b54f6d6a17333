import fc from 'fast-check';
import type { Delta, Item, PartialItem } from '@yoke/protocol';
import { DeltaOrder, mergeSnapshot } from './delta-order';
import { makeNotice, SESSION_ID } from './testing/fixtures';

const chunk = (text: string, streamId = 's', turnId = 't'): Delta => ({
  type: 'agent_message_delta',
  turnId,
  streamId,
  text,
});
const message = (seq: number, streamId: string, text: string): Item => ({
  seq,
  sessionId: SESSION_ID,
  createdAt: '2026-01-01T00:00:00.000Z',
  type: 'agent_message',
  streamId,
  text,
});

describe('DeltaOrder', () => {
  it('shows a chunk only after the item it follows, and keeps later chunks behind it', () => {
    const shown: string[] = [];
    const order = new DeltaOrder((d) => shown.push(d.text));
    order.push({ afterSeq: 1, delta: chunk('a') }, 1);
    order.push({ afterSeq: 3, delta: chunk('b', 's2') }, 1);
    order.push({ afterSeq: 1, delta: chunk('c') }, 1); // behind the waiting one, whatever its own afterSeq
    expect(shown).toEqual(['a']);
    order.items([makeNotice(2)], 2);
    expect(shown).toEqual(['a']);
    order.items([makeNotice(3)], 3);
    expect(shown).toEqual(['a', 'b', 'c']);
    expect(order.waiting).toBe(false);
  });

  it('drops chunks of a stream an item completed, waiting or late', () => {
    const shown: string[] = [];
    const order = new DeltaOrder((d) => shown.push(d.text));
    order.push({ afterSeq: 2, delta: chunk('x', 'done') }, 1);
    order.items([message(2, 'done', 'whole')], 2);
    order.push({ afterSeq: 1, delta: chunk('late', 'done') }, 2);
    order.push({ afterSeq: 2, delta: chunk('next', 'other') }, 2);
    expect(shown).toEqual(['next']);
  });

  it("holds a join's partial stream whose item is not there yet, merged with the chunks buffered meanwhile", () => {
    const shown: string[] = [];
    const order = new DeltaOrder((d) => shown.push(d.text));
    const partial: PartialItem = { type: 'agent_message_delta', turnId: 't', streamId: 's', afterSeq: 4, text: 'Hel' };
    const seed = order.seed(
      [partial],
      [
        { sessionId: SESSION_ID, afterSeq: 4, delta: chunk('l') },
        { sessionId: SESSION_ID, afterSeq: 4, delta: chunk('lo') },
      ],
      3,
    );
    expect(seed).toEqual({ partials: [], buffered: [] });
    order.items([makeNotice(4)], 4);
    expect(shown).toEqual(['Hello']);
  });

  it('property: whatever the arrival interleaving, every chunk is shown after its item and in sent order', () => {
    // A runner's output: items and chunks, each chunk stamped with the last item before it.
    const script = fc.array(fc.boolean(), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(script, fc.array(fc.nat(), { maxLength: 40 }), (isItem, delays) => {
        const sent: ({ kind: 'item'; seq: number } | { kind: 'chunk'; afterSeq: number; n: number })[] = [];
        let seq = 0;
        isItem.forEach((item, n) =>
          sent.push(item ? { kind: 'item', seq: ++seq } : { kind: 'chunk', afterSeq: seq, n }),
        );
        // Chunks arrive in sent order; each item arrives somewhere at or after its sent position (storage delays it).
        const arrivals: { at: number; e: (typeof sent)[number] }[] = [];
        sent.forEach((e, i) => arrivals.push({ at: e.kind === 'item' ? i + ((delays[i] ?? 0) % 7) : i, e }));
        arrivals.sort((a, b) => a.at - b.at || (a.e.kind === 'chunk' ? -1 : 1));
        // Items reach the viewer in seq order (the sequencer's job): release them in order.
        const screen: string[] = [];
        let last = 0;
        const order = new DeltaOrder((d) => screen.push(d.text));
        const arrivedItems = new Set<number>();
        for (const { e } of arrivals) {
          if (e.kind === 'chunk') {
            order.push({ afterSeq: e.afterSeq, delta: chunk(`c${e.n}`, `s${e.n}`) }, last);
            continue;
          }
          arrivedItems.add(e.seq);
          while (arrivedItems.has(last + 1)) {
            last++;
            screen.push(`i${last}`);
            order.items([makeNotice(last)], last);
          }
        }
        const expected = sent.map((e) => (e.kind === 'item' ? `i${e.seq}` : `c${e.n}`));
        expect(screen).toEqual(expected);
      }),
    );
  });
});

describe('mergeSnapshot', () => {
  it('appends only the buffered chunks the snapshot does not end with', () => {
    expect(mergeSnapshot('abc', ['c', 'd'])).toBe('abcd');
    expect(mergeSnapshot('ab', ['c', 'd'])).toBe('abcd');
    expect(mergeSnapshot('abcd', ['c', 'd'])).toBe('abcd');
  });
});
