import type { Item } from './items';

/**
 * Delivers a session's items to a viewer in `seq` order, each exactly once, whatever mix of history pages
 * and live pushes arrives (join the room first, then fetch history: the two overlap and interleave).
 * Items after a gap are held until the gap is filled.
 */
export class ItemSequencer {
  private readonly pending = new Map<number, Item>();

  constructor(
    private readonly deliver: (item: Item) => void,
    private lastSeq = 0,
  ) {}

  get last(): number {
    return this.lastSeq;
  }

  /** True when items beyond a gap are waiting: the caller should fetch history after `last`. */
  get hasGap(): boolean {
    return this.pending.size > 0;
  }

  push(item: Item): void {
    if (item.seq <= this.lastSeq || this.pending.has(item.seq)) return;
    this.pending.set(item.seq, item);
    let next = this.pending.get(this.lastSeq + 1);
    while (next) {
      this.pending.delete(next.seq);
      this.lastSeq = next.seq;
      this.deliver(next);
      next = this.pending.get(this.lastSeq + 1);
    }
  }

  pushAll(items: Iterable<Item>): void {
    for (const item of items) this.push(item);
  }
}
