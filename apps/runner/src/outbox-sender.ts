import type { Logger } from 'pino';
import { type Delta, type DeltaEvent, type ItemDraft, ItemsAck, MAX_BATCH_ITEMS } from '@yoke/protocol';
import { ACK_TIMEOUT_MS, type RunnerConnection, SEND_RETRY_MS } from './runner-connection';
import type { SessionSupervisor } from './session-supervisor';

/** How many batches of a session may await their ack at once, and how many items a batch holds at most. */
export interface OutboxWindow {
  batches: number;
  batchItems: number;
}

export const DEFAULT_OUTBOX_WINDOW: OutboxWindow = { batches: 8, batchItems: MAX_BATCH_ITEMS };

/** The window from YOKE_OUTBOX_WINDOW (batches in flight, 1..64) and YOKE_OUTBOX_BATCH_ITEMS (1..MAX_BATCH_ITEMS). */
export function outboxWindowFromEnv(env: NodeJS.ProcessEnv = process.env): OutboxWindow {
  const read = (name: string, max: number, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer in [1, ${max}]`);
    return n;
  };
  return {
    batches: read('YOKE_OUTBOX_WINDOW', 64, DEFAULT_OUTBOX_WINDOW.batches),
    batchItems: read('YOKE_OUTBOX_BATCH_ITEMS', MAX_BATCH_ITEMS, DEFAULT_OUTBOX_WINDOW.batchItems),
  };
}

/** What the sender needs of a session: its id, its outbox and the trace its items belong to. */
export type OutboxSource = Pick<SessionSupervisor, 'sessionId' | 'outbox' | 'traceparent'>;

/** One session's stream on the current connection. */
interface Stream {
  /** Bumped on every restart: replies to batches of an older generation are ignored. */
  generation: number;
  /** The connection (RunnerConnection.epoch) the batches in flight went out on. */
  epoch: number;
  /** The last seq sent in this generation; the next batch starts after it. */
  sentThrough: number;
  inFlight: number;
  /** Waiting out a refusal before sending again. */
  retry: NodeJS.Timeout | null;
  /** A send is due once the current event loop turn's items are in the outbox. */
  scheduled: boolean;
  /** Chunks that follow items not sent yet: they leave right after those items' batch, never before it. */
  held: DeltaEvent[];
  /** Items are being flushed to the disk; they are sent once that is done. */
  syncing: boolean;
}

/** Chunks held behind unsent items, per session, at most; past it the oldest go (the completed items follow). */
const MAX_HELD_DELTAS = 1_000;

/**
 * Streams each session's durable items from its outbox until the server acknowledged them. Up to `window.batches`
 * batches are in flight per session, in seq order on the one socket (which keeps their order); the server acks the
 * last seq it holds, so an ack covers every batch before it. The outbox advances only by acks. A refusal (a gap after
 * a reconnect, an error) or an ack that does not come drops what is in flight and resends from the first
 * unacknowledged item: the server skips what it already stored, so nothing is lost and nothing is stored twice.
 * Deltas go out only while connected.
 */
export class OutboxSender {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly connection: Pick<RunnerConnection, 'isReady' | 'epoch' | 'socket'>,
    private readonly sessions: ReadonlyMap<string, OutboxSource>,
    private readonly log: Logger,
    private readonly window: OutboxWindow = outboxWindowFromEnv(),
  ) {}

  /** Sends a session's pending items in order, keeping up to `window.batches` batches in flight. */
  flush(sessionId: string): void {
    if (!this.connection.isReady) return;
    const sup = this.sessions.get(sessionId);
    if (!sup) return void this.stop(sessionId);
    let stream = this.streams.get(sessionId);
    if (!stream) {
      stream = {
        generation: 0,
        epoch: -1,
        sentThrough: 0,
        inFlight: 0,
        retry: null,
        scheduled: false,
        held: [],
        syncing: false,
      };
      this.streams.set(sessionId, stream);
    }
    // A new connection: what was in flight on the old one is gone; the hello told the outbox what the server holds.
    if (stream.epoch !== this.connection.epoch) this.restart(stream, sup);
    if (stream.retry || stream.scheduled) return;
    // Items a session emits in one go (one event loop turn) leave in one batch, not one batch each.
    stream.scheduled = true;
    queueMicrotask(() => {
      stream.scheduled = false;
      if (!stream.retry) this.pump(sup, stream);
    });
  }

  /**
   * Sends a streamed chunk stamped with the seq of the last item emitted before it. Deltas are ephemeral: sent when
   * connected, otherwise dropped (the completed item follows through the outbox). A chunk whose items have not left
   * yet waits for their batch, so on the wire (one socket, in order) a new stream never starts ahead of the items of
   * the step before it.
   */
  sendDelta(sessionId: string, delta: Delta): void {
    if (!this.connection.isReady) return;
    const sup = this.sessions.get(sessionId);
    if (!sup) return;
    const event: DeltaEvent = { sessionId, afterSeq: sup.outbox.last, delta };
    const stream = this.streams.get(sessionId);
    const sentThrough = stream && stream.epoch === this.connection.epoch ? stream.sentThrough : sup.outbox.acked;
    if (event.afterSeq <= Math.max(sentThrough, sup.outbox.acked) && !stream?.held.length) {
      this.connection.socket.emit('session.delta', event);
      return;
    }
    if (!stream) return this.flush(sessionId); // the items go first; without a stream the chunk is dropped
    if (stream.held.push(event) > MAX_HELD_DELTAS) stream.held.shift();
    this.flush(sessionId);
  }

  /** Sends the held chunks whose items have left. */
  private releaseHeld(stream: Stream): void {
    let n = 0;
    while (n < stream.held.length && stream.held[n].afterSeq <= stream.sentThrough) {
      this.connection.socket.emit('session.delta', stream.held[n]);
      n++;
    }
    if (n > 0) stream.held.splice(0, n);
  }

  private pump(sup: OutboxSource, stream: Stream): void {
    if (stream.sentThrough < sup.outbox.acked) stream.sentThrough = sup.outbox.acked;
    while (this.connection.isReady && stream.inFlight < this.window.batches) {
      const batch = sup.outbox.pendingAfter(stream.sentThrough, this.window.batchItems);
      if (batch.length === 0) break;
      stream.sentThrough = batch[batch.length - 1].seq;
      stream.inFlight++;
      this.send(sup, stream, batch);
    }
    if (this.connection.isReady) this.releaseHeld(stream);
    // Items not on the disk yet leave once one fsync (for all of them) is done, off the event loop.
    if (sup.outbox.durable >= sup.outbox.last || stream.syncing) return;
    stream.syncing = true;
    sup.outbox.sync().then(
      () => {
        stream.syncing = false;
        this.flush(sup.sessionId);
      },
      (err: unknown) => {
        stream.syncing = false;
        this.log.error({ err, sessionId: sup.sessionId }, 'could not flush the outbox to the disk; retrying');
        stream.retry ??= setTimeout(() => {
          stream.retry = null;
          this.flush(sup.sessionId);
        }, SEND_RETRY_MS);
      },
    );
  }

  private send(sup: OutboxSource, stream: Stream, batch: ItemDraft[]): void {
    const generation = stream.generation;
    const sent = this.connection.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('session.items', {
      sessionId: sup.sessionId,
      items: batch,
      ...(sup.traceparent ? { traceparent: sup.traceparent } : {}),
    }) as Promise<unknown>;
    sent.then(
      (raw) => {
        if (stream.generation !== generation) return;
        stream.inFlight--;
        // A reply that is not an ack is never trusted: it counts as a refusal (resend from the first unacked item).
        const parsed = ItemsAck.safeParse(raw);
        const reply: ItemsAck = parsed.success
          ? parsed.data
          : {
              ok: false,
              error: { code: 'internal', message: `malformed items ack: ${parsed.error.issues[0]?.message}` },
            };
        if (reply.ok) {
          sup.outbox.ack(reply.lastSeq);
          return this.pump(sup, stream);
        }
        this.log.error({ sessionId: sup.sessionId, error: reply.error }, 'server refused items; resending');
        this.restart(stream, sup);
        stream.retry = setTimeout(() => {
          stream.retry = null;
          this.flush(sup.sessionId);
        }, SEND_RETRY_MS);
      },
      () => {
        // No ack in time, or the connection went: resend from the first unacknowledged item if still connected
        // (`isReady` tells); otherwise the next hello restarts the stream.
        if (stream.generation !== generation) return;
        this.restart(stream, sup);
        this.flush(sup.sessionId);
      },
    );
  }

  private restart(stream: Stream, sup: OutboxSource): void {
    if (stream.epoch !== this.connection.epoch) stream.held = []; // chunks of a connection that is gone are dropped
    stream.generation++;
    stream.epoch = this.connection.epoch;
    stream.inFlight = 0;
    stream.sentThrough = sup.outbox.acked;
  }

  private stop(sessionId: string): void {
    const stream = this.streams.get(sessionId);
    if (stream?.retry) clearTimeout(stream.retry);
    this.streams.delete(sessionId);
  }
}
