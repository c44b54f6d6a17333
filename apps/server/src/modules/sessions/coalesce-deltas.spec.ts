import { type DeltaEvent, MAX_TEXT_CHARS } from '@yoke/protocol';
import { coalesceDeltas } from './coalesce-deltas';

const S1 = '7d0c1a52-2f0e-4c3e-9a53-0a4c2b6f1e01';
const S2 = '7d0c1a52-2f0e-4c3e-9a53-0a4c2b6f1e02';
const msg = (text: string, streamId = 's1', sessionId = S1, turnId = 't1'): DeltaEvent => ({
  sessionId,
  afterSeq: 0,
  delta: { type: 'agent_message_delta', turnId, streamId, text },
});
const out = (text: string, callId: string): DeltaEvent => ({
  sessionId: S1,
  afterSeq: 0,
  delta: { type: 'command_output_delta', turnId: 't1', streamId: `o-${callId}`, callId, text },
});
const texts = (events: DeltaEvent[]) => coalesceDeltas(events).map((c) => [c.event.delta.text, c.count]);

describe('coalesceDeltas', () => {
  it('merges a run of chunks of one stream into one delta, in order, counting them', () => {
    expect(texts([msg('Hel'), msg('lo, '), msg('world')])).toEqual([['Hello, world', 3]]);
    expect(coalesceDeltas([msg('a'), msg('b')])[0].event).toEqual(msg('ab'));
  });

  it('leaves the chunks it was given untouched', () => {
    const input = [msg('a'), msg('b')];
    const copy = structuredClone(input);
    coalesceDeltas(input);
    expect(input).toEqual(copy);
  });

  it('keeps order across streams, sessions, turns and kinds: only neighbours of the same stream merge', () => {
    expect(texts([msg('a1'), msg('b1', 's2'), msg('a2'), msg('a3')])).toEqual([
      ['a1', 1],
      ['b1', 1],
      ['a2a3', 2],
    ]);
    expect(texts([msg('x'), msg('y', 's1', S2)])).toEqual([
      ['x', 1],
      ['y', 1],
    ]);
    expect(texts([msg('x'), msg('y', 's1', S1, 't2')])).toEqual([
      ['x', 1],
      ['y', 1],
    ]);
    const reasoning: DeltaEvent = {
      sessionId: S1,
      afterSeq: 0,
      delta: { type: 'reasoning_delta', turnId: 't1', streamId: 's1', text: 'r' },
    };
    expect(texts([msg('x'), reasoning])).toEqual([
      ['x', 1],
      ['r', 1],
    ]);
  });

  it('merges command output of one command only', () => {
    expect(texts([out('1\n', 'c1'), out('2\n', 'c1'), out('3\n', 'c2')])).toEqual([
      ['1\n2\n', 2],
      ['3\n', 1],
    ]);
  });

  it('never makes a delta longer than the protocol allows', () => {
    const big = 'x'.repeat(MAX_TEXT_CHARS - 1);
    const merged = coalesceDeltas([msg(big), msg('y'), msg('z')]);
    expect(merged.map((c) => [c.event.delta.text.length, c.count])).toEqual([
      [MAX_TEXT_CHARS, 2],
      [1, 1],
    ]);
  });

  it('returns nothing for nothing', () => {
    expect(coalesceDeltas([])).toEqual([]);
  });
});
