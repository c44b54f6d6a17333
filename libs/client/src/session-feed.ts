import {
  ItemSequencer,
  PresenceEvent,
  TypingEvent,
  type Delta,
  type DeltaEvent,
  type ErrorBody,
  type Item,
  type ItemsPage,
  type PartialItem,
  type Session,
} from '@yoke/protocol';
import type { WebSocketClient } from './connect';
import { DeltaOrder } from './delta-order';
import { describeError, parseDeltaEvent, parseItemOrPlaceholder, parseJoinAck, parseSession } from './wire';

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
  /** Who is watching the session now. */
  presence?(event: PresenceEvent): void;
  /** A driver is typing. */
  typing?(event: TypingEvent): void;
};

/** The part of a socket.io client of the `/web` namespace a feed uses. */
export type FeedSocket = Pick<WebSocketClient, 'connected' | 'on' | 'off' | 'emit' | 'timeout'>;

/** Reads a page of a session's items after a seq (REST `GET /sessions/:id/items`), parsed. */
export type HistoryLoader = (sessionId: string, afterSeq: number, signal: AbortSignal) => Promise<ItemsPage>;

/** How long to wait for an ack before treating the request as lost. */
export const ACK_TIMEOUT_MS = 15_000;
const JOIN_RETRY_MS = 2_000;
/** Chunks waiting this long for their item make the feed read history: the item's live push may have been lost. */
const WAITING_DELTA_CHECK_MS = 1_500;

/**
 * One session's live feed over the `/web` socket, the same for the web, the CLI and the terminal UI: joins the room
 * (and re-joins from the sequencer's `last` after every reconnect), pages in history the join did not carry, and
 * passes live items through the same `ItemSequencer`, so the sink sees every item exactly once and in `seq` order.
 * Streamed chunks are shown only after the item they follow (`DeltaOrder`); chunks that arrive while a join is in
 * flight are held and merged with the join's snapshot of partial streams.
 *
 * The feed outlives socket instances (a token change makes a new one): `attach` each socket in turn.
 */
export class SessionFeed {
  private readonly sequencer: ItemSequencer;
  private batch: Item[] = [];
  private buffered: DeltaEvent[] | null = null;
  private readonly order: DeltaOrder;
  private waitingCheck: ReturnType<typeof setTimeout> | undefined;
  private joinAttempt = 0;
  private catchUpSignal: AbortSignal | null = null;
  private socket: FeedSocket | null = null;
  private abort = new AbortController();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly sessionId: string,
    private readonly sink: FeedSink,
    private readonly loadItems: HistoryLoader,
    /** Follow from after this seq (what the viewer already holds). */
    afterSeq = 0,
  ) {
    this.sequencer = new ItemSequencer((item) => this.batch.push(item), afterSeq);
    this.order = new DeltaOrder((delta) => this.sink.delta(delta));
  }

  get lastSeq(): number {
    return this.sequencer.last;
  }

  attach(socket: FeedSocket): () => void {
    this.socket = socket;
    this.abort = new AbortController();
    socket.on('connect', this.onConnect);
    socket.on('disconnect', this.onDisconnect);
    socket.on('session.items', this.onItems);
    socket.on('session.delta', this.onDelta);
    socket.on('session.updated', this.onSessionUpdated);
    socket.on('presence.updated', this.onPresence);
    socket.on('presence.typing', this.onTyping);
    if (socket.connected) this.onConnect();
    else this.sink.phase({ phase: 'offline' });
    return () => this.detach(socket);
  }

  private detach(socket: FeedSocket): void {
    socket.off('connect', this.onConnect);
    socket.off('disconnect', this.onDisconnect);
    socket.off('session.items', this.onItems);
    socket.off('session.delta', this.onDelta);
    socket.off('session.updated', this.onSessionUpdated);
    socket.off('presence.updated', this.onPresence);
    socket.off('presence.typing', this.onTyping);
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
    this.order.reset();
    clearTimeout(this.retryTimer);
    clearTimeout(this.waitingCheck);
    this.waitingCheck = undefined;
    this.sink.phase({ phase: 'offline' });
  };

  private readonly onItems = (raw: unknown): void => {
    if (!Array.isArray(raw)) return;
    const items = raw.flatMap((r: unknown) => parseItemOrPlaceholder(r, this.sessionId) ?? []);
    if (items.length === 0) return;
    this.deliver(items);
    if (this.sequencer.hasGap && this.buffered === null) void this.catchUp();
  };

  private readonly onDelta = (raw: unknown): void => {
    const event = parseDeltaEvent(raw);
    if (!event || event.sessionId !== this.sessionId) return;
    if (this.buffered) return void this.buffered.push(event);
    this.order.push(event, this.sequencer.last);
    this.watchWaiting();
  };

  private readonly onPresence = (raw: unknown): void => {
    const r = PresenceEvent.safeParse(raw);
    if (r.success && r.data.sessionId === this.sessionId) this.sink.presence?.(r.data);
  };

  private readonly onTyping = (raw: unknown): void => {
    const r = TypingEvent.safeParse(raw);
    if (r.success && r.data.sessionId === this.sessionId) this.sink.typing?.(r.data);
  };

  /**
   * Chunks that wait for an item normally see it within milliseconds (it is being stored). If it has still not come
   * after a while, its live push was lost: read history after the last item held.
   */
  private watchWaiting(): void {
    if (!this.order.waiting || this.waitingCheck) return;
    this.waitingCheck = setTimeout(() => {
      this.waitingCheck = undefined;
      if (this.order.waiting && this.order.neededSeq > this.sequencer.last && this.buffered === null) {
        void this.catchUp();
      }
    }, WAITING_DELTA_CHECK_MS);
  }

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
    this.order.items(batch, this.sequencer.last);
  }

  /** Joins the room again from the last seq (after the server took this socket out of it: a role change). */
  rejoin(): void {
    if (this.socket?.connected) void this.join();
  }

  /** Stops following the session for good (access ended): no further items, deltas or re-joins. */
  close(): void {
    if (this.socket) this.detach(this.socket);
    clearTimeout(this.waitingCheck);
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
      const seed = this.order.seed(result.partials, buffered, this.sequencer.last);
      this.sink.seed(seed.partials, seed.buffered);
      this.sink.phase({ phase: 'live' });
      this.watchWaiting();
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
