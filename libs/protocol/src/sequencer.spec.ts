import { ItemSequencer } from './sequencer';
import type { Item } from './items';

const item = (seq: number): Item => ({
  seq,
  sessionId: '00000000-0000-4000-8000-000000000000',
  createdAt: new Date(0).toISOString(),
  type: 'notice',
  level: 'info',
  text: `n${seq}`,
});

describe('ItemSequencer', () => {
  it('delivers overlapping history and live items once each, in order', () => {
    const seen: number[] = [];
    const s = new ItemSequencer((i) => seen.push(i.seq));
    s.push(item(3)); // live, ahead of history
    expect(seen).toEqual([]);
    expect(s.hasGap).toBe(true);
    s.pushAll([1, 2, 3].map(item)); // history overlaps the live item
    s.push(item(2)); // replay
    s.push(item(4));
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(s.hasGap).toBe(false);
  });

  it('starts after a known seq', () => {
    const seen: number[] = [];
    const s = new ItemSequencer((i) => seen.push(i.seq), 5);
    s.pushAll([4, 5, 6].map(item));
    expect(seen).toEqual([6]);
  });
});
