import { Injectable } from '@nestjs/common';
import type { DeltaEvent, ItemDraft, PartialItem } from '@yoke/protocol';
import { MetricsService } from '../../core/metrics/metrics.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { SessionWatchers } from '../../core/realtime/session-watchers';
import { coalesceDeltas } from './coalesce-deltas';
import { PartialStore } from './partial-store';

/**
 * Streamed chunks on their way to viewers. Each chunk updates the session's partial text at once; chunks that arrive
 * in the same turn of the event loop go out together at its end, consecutive chunks of one stream as one delta.
 * In a steady stream that is one chunk per delta, as sent; after any pause (a slow tick, a busy machine, a runner
 * catching up) the backlog reaches every viewer as one frame instead of one per chunk.
 *
 * Whatever reads the partial text or completes a stream first sends the session's queued chunks, so a viewer never
 * gets a snapshot that is ahead of the chunks it will still receive, nor a completed item before its last chunks.
 */
@Injectable()
export class DeltaRelay {
  private queue: DeltaEvent[] = [];
  private scheduled = false;

  constructor(
    private readonly partials: PartialStore,
    private readonly publisher: RealtimePublisher,
    private readonly metrics: MetricsService,
    watchers: SessionWatchers,
  ) {
    // Viewers joining on other replicas get this replica's partial text from here.
    watchers.serveSnapshots((sessionId) => this.snapshot(sessionId));
  }

  push(event: DeltaEvent): void {
    this.partials.apply(event);
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** The session's partial items, after its queued chunks went out. */
  snapshot(sessionId: string): PartialItem[] {
    this.flush(sessionId);
    return this.partials.list(sessionId);
  }

  /** Persisted items complete streams: the session's queued chunks go out first, then the partial text is dropped. */
  settle(sessionId: string, items: ItemDraft[]): void {
    this.flush(sessionId);
    this.partials.settle(sessionId, items);
  }

  /** Sends the queued chunks: every session's, or one session's. */
  flush(sessionId?: string): void {
    if (this.queue.length === 0) return;
    let out = this.queue;
    if (sessionId === undefined) {
      this.queue = [];
    } else {
      out = this.queue.filter((e) => e.sessionId === sessionId);
      if (out.length === 0) return;
      this.queue = this.queue.filter((e) => e.sessionId !== sessionId);
    }
    for (const { event, count } of coalesceDeltas(out)) {
      this.metrics.deltasRelayed.inc({ route: this.publisher.delta(event) }, count);
    }
  }
}
