import { ItemSequencer, type Delta, type ErrorBody, type Item, type PartialItem, type Session } from '@yoke/protocol';
import { describeError, fetchItems } from '@/lib/api';
import { ACK_TIMEOUT_MS, type WebSocketClient } from '@/lib/socket';
import { parseDeltaEvent, parseItemOrPlaceholder, parseJoinAck, parseSession } from '@/lib/wire';

export type FeedPhase =
  | { phase: 'joining' }
  | { phase: 'live' }
  | { phase: 'offline' }
  | { phase: 'refused'; error: ErrorBody }
  | { phase: 'error'; message: string };

/** Where a feed delivers what it learns; every callback receives parsed, ordered data. */
export type FeedSink = {
  items(items: Item[]): void;
  delta(delta: Delta): void;
  seed(partials: PartialItem[], buffered: Delta[]): void;
  session(session: Session): void;
  phase(phase: FeedPhase): void;
  historyError(message: string | null): void;
};

const JOIN_RETRY_MS = 2_000;

/**
 * One session's live feed over the `/web` socket: joins the room (and re-joins from the sequencer's `last`
 * after every reconnect), pages in history the join did not carry, and passes live items through the same
 * `ItemSequencer`, so the sink sees every item exactly once and in `seq` order. Deltas that arrive while a
 * join is in flight are held and merged with the join's snapshot of partial streams.
 *
 * The feed outlives socket instances (a token change makes a new one): `attach` each socket in turn.
 */
export class SessionFeed {
  private readonly sequencer: ItemSequencer;
  private batch: Item[] = [];
  private buffered: Delta[] | null = null;
  private joinAttempt = 0;
  private catchUpSignal: AbortSignal | null = null;
  private socket: WebSocketClient | null = null;
  private abort = new AbortController();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly sessionId: string,
    private readonly sink: FeedSink,
    private readonly loadItems: typeof fetchItems = fetchItems,
  ) {
    this.sequencer = new ItemSequencer((item) => this.batch.push(item));
  }

  get lastSeq(): number {
    return this.sequencer.last;
  }

  attach(socket: WebSocketClient): () => void {
    this.socket = socket;
    this.abort = new AbortController();
    socket.on('connect', this.onConnect);
    socket.on('disconnect', this.onDisconnect);
    socket.on('session.item', this.onItem);
    socket.on('session.delta', this.onDelta);
    socket.on('session.updated', this.onSessionUpdated);
    if (socket.connected) this.onConnect();
    else this.sink.phase({ phase: 'offline' });
    return () => this.detach(socket);
  }

  private detach(socket: WebSocketClient): void {
    socket.off('connect', this.onConnect);
    socket.off('disconnect', this.onDisconnect);
    socket.off('session.item', this.onItem);
    socket.off('session.delta', this.onDelta);
    socket.off('session.updated', this.onSessionUpdated);
    this.onDisconnect();
    this.abort.abort();
    if (socket.connected) socket.emit('session.leave', { sessionId: this.sessionId }, () => undefined);
    if (this.socket === socket) this.socket = null;
  }

  private readonly onConnect = (): void => {
    void this.join();
  };

  private readonly onDisconnect = (): void => {
    this.joinAttempt++;
    this.buffered = null;
    clearTimeout(this.retryTimer);
    this.sink.phase({ phase: 'offline' });
  };

  private readonly onItem = (raw: unknown): void => {
    const item = parseItemOrPlaceholder(raw, this.sessionId);
    if (!item) return;
    this.deliver([item]);
    if (this.sequencer.hasGap && this.buffered === null) void this.catchUp();
  };

  private readonly onDelta = (raw: unknown): void => {
    const event = parseDeltaEvent(raw);
    if (!event || event.sessionId !== this.sessionId) return;
    if (this.buffered) this.buffered.push(event.delta);
    else this.sink.delta(event.delta);
  };

  private readonly onSessionUpdated = (raw: unknown): void => {
    const session = parseSession(raw);
    if (session && session.id === this.sessionId) this.sink.session(session);
  };

  private deliver(items: Item[]): void {
    this.sequencer.pushAll(items);
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.sink.items(batch);
  }

  /** Joins the room again from the last seq (after the server took this socket out of it: a role change). */
  rejoin(): void {
    if (this.socket?.connected) void this.join();
  }

  /** Stops following the session for good (access ended): no further items, deltas or re-joins. */
  close(): void {
    if (this.socket) this.detach(this.socket);
  }

  private async join(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const attempt = ++this.joinAttempt;
    clearTimeout(this.retryTimer);
    this.buffered = [];
    this.sink.phase({ phase: 'joining' });
    let reply: unknown;
    try {
      reply = await socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('session.join', { sessionId: this.sessionId, afterSeq: this.sequencer.last });
    } catch {
      if (attempt !== this.joinAttempt) return;
      this.buffered = null;
      this.sink.phase({ phase: 'error', message: 'The server did not answer the join request; retrying.' });
      this.retryTimer = setTimeout(() => {
        if (socket.connected && this.socket === socket) void this.join();
      }, JOIN_RETRY_MS);
      return;
    }
    if (attempt !== this.joinAttempt) return;
    const buffered = this.buffered ?? [];
    this.buffered = null;
    try {
      const result = parseJoinAck(reply, this.sessionId);
      if (!result.ok) {
        this.sink.phase({ phase: 'refused', error: result.error });
        return;
      }
      this.sink.session(result.session);
      this.deliver(result.items);
      this.sink.seed(result.partials, buffered);
      this.sink.phase({ phase: 'live' });
      if (result.hasMore || this.sequencer.hasGap) void this.catchUp();
    } catch (err) {
      this.sink.phase({ phase: 'error', message: describeError(err) });
    }
  }

  /** Page in items after the sequencer's `last` until the server has no more and no gap is left. */
  private async catchUp(): Promise<void> {
    const { signal } = this.abort;
    if (this.catchUpSignal === signal || signal.aborted) return;
    this.catchUpSignal = signal;
    try {
      for (;;) {
        const before = this.sequencer.last;
        const page = await this.loadItems(this.sessionId, before, signal);
        if (signal.aborted) return;
        this.deliver(page.items);
        const progressed = this.sequencer.last > before;
        if (!progressed || (!page.hasMore && !this.sequencer.hasGap)) break;
      }
      this.sink.historyError(null);
    } catch (err) {
      if (!signal.aborted) this.sink.historyError(`Could not load history: ${describeError(err)}`);
    } finally {
      if (this.catchUpSignal === signal) this.catchUpSignal = null;
    }
  }
}
