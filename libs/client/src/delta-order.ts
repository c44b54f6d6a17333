import type { Delta, DeltaEvent, Item, PartialItem } from '@yoke/protocol';

/** Streams remembered as completed, at most: enough for every stream a viewer can still receive chunks of. */
const MAX_SETTLED = 2_000;

/**
 * A snapshot's text merged with chunks buffered while it was taken: the snapshot may already contain the first few
 * of them, so the longest run of leading chunks it ends with is not appended twice.
 */
export function mergeSnapshot(snapshot: string, buffered: string[]): string {
  for (let k = buffered.length; k > 0; k--) {
    if (snapshot.endsWith(buffered.slice(0, k).join(''))) return snapshot + buffered.slice(k).join('');
  }
  return snapshot + buffered.join('');
}

/** What a join can show at once: the partial streams and the chunks buffered during the join. */
export interface Seed {
  partials: PartialItem[];
  buffered: Delta[];
}

/**
 * Keeps streamed chunks behind the items they follow. Each chunk carries `afterSeq`, the seq of the last item the
 * runner emitted before it; chunks travel straight to viewers while items travel through storage, so a chunk can
 * arrive first. It is shown only once the viewer holds item `afterSeq`, and chunks keep their order among
 * themselves: one that waits holds back every later one. A chunk of a stream an item already completed is dropped
 * (the item carries the whole text).
 */
export class DeltaOrder {
  private held: { afterSeq: number; delta: Delta }[] = [];
  private readonly settled = new Set<string>();

  constructor(private readonly show: (delta: Delta) => void) {}

  /** True while chunks wait for items that have not arrived. */
  get waiting(): boolean {
    return this.held.length > 0;
  }

  /** The highest seq a waiting chunk needs. */
  get neededSeq(): number {
    return this.held.at(-1)?.afterSeq ?? 0;
  }

  /** A live chunk, with the seq of the last item the viewer holds. */
  push(event: Pick<DeltaEvent, 'afterSeq' | 'delta'>, last: number): void {
    if (this.isSettled(event.delta)) return;
    if (this.held.length === 0 && event.afterSeq <= last) return this.show(event.delta);
    this.held.push({ afterSeq: event.afterSeq, delta: event.delta });
  }

  /** Items just delivered (in order): they complete streams and may release waiting chunks. */
  items(items: readonly Item[], last: number): void {
    for (const item of items) this.settle(item);
    if (this.held.length > 0) this.held = this.held.filter((h) => !this.isSettled(h.delta));
    let n = 0;
    while (n < this.held.length && this.held[n].afterSeq <= last) this.show(this.held[n++].delta);
    if (n > 0) this.held.splice(0, n);
  }

  /**
   * A join's snapshot of partial streams and the chunks buffered while it was in flight: what can be shown now is
   * returned; a stream whose first chunk follows an item not held yet waits, as one merged chunk.
   */
  seed(partials: readonly PartialItem[], buffered: readonly DeltaEvent[], last: number): Seed {
    const seed: Seed = { partials: [], buffered: [] };
    const waiting = new Set<string>();
    for (const p of partials) {
      if (this.isSettled(p)) continue;
      if (p.afterSeq <= last) {
        seed.partials.push(p);
        continue;
      }
      waiting.add(p.streamId);
      const own = buffered.filter((e) => e.delta.streamId === p.streamId).map((e) => e.delta.text);
      const delta = { type: p.type, turnId: p.turnId, streamId: p.streamId, text: mergeSnapshot(p.text, own) };
      this.held.push({
        afterSeq: p.afterSeq,
        delta:
          p.type === 'command_output_delta' ? { ...delta, type: p.type, callId: p.callId ?? '' } : (delta as Delta),
      });
    }
    for (const e of buffered) {
      if (waiting.has(e.delta.streamId) || this.isSettled(e.delta)) continue;
      if (this.held.length === 0 && e.afterSeq <= last) seed.buffered.push(e.delta);
      else this.held.push({ afterSeq: e.afterSeq, delta: e.delta });
    }
    this.held.sort((a, b) => a.afterSeq - b.afterSeq);
    return seed;
  }

  /** Forgets waiting chunks (the connection is gone: the join after it brings the text so far). */
  reset(): void {
    this.held = [];
  }

  private settle(item: Item): void {
    if ((item.type === 'agent_message' || item.type === 'reasoning') && item.streamId) this.mark(`s:${item.streamId}`);
    else if (item.type === 'command') this.mark(`c:${item.callId}`);
    else if (item.type === 'turn_completed' || item.type === 'turn_failed') this.mark(`t:${item.turnId}`);
  }

  private mark(key: string): void {
    this.settled.add(key);
    if (this.settled.size > MAX_SETTLED) this.settled.delete(this.settled.values().next().value as string);
  }

  private isSettled(d: { type: string; turnId: string; streamId: string; callId?: string }): boolean {
    return (
      this.settled.has(`s:${d.streamId}`) ||
      this.settled.has(`t:${d.turnId}`) ||
      (d.type === 'command_output_delta' && d.callId !== undefined && this.settled.has(`c:${d.callId}`))
    );
  }
}
