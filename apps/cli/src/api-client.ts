import { io, type Socket } from 'socket.io-client';
import {
  API_PREFIX,
  type ErrorBody,
  type Item,
  ItemSequencer,
  type JoinAck,
  NS_WEB,
  parseItem,
  type ServerToWebEvents,
  type Session,
  type WebToServerEvents,
  type DeltaEvent,
} from '@yoke/protocol';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(body ? `${body.code}: ${body.message}` : `HTTP ${status}`);
  }
}

/** The public API as the CLI uses it: REST for commands, the /web socket to follow sessions live. */
export class ApiClient {
  constructor(
    readonly server: string,
    private readonly token: string | undefined,
  ) {}

  /** The credential header, for calls made outside `request` (streamed downloads). */
  authHeaders(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.server}${API_PREFIX}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (!res.ok) throw new ApiError(res.status, (json as ErrorBody) ?? null);
    return json as T;
  }

  connect(): Socket<ServerToWebEvents, WebToServerEvents> {
    return io(`${this.server}${NS_WEB}`, {
      auth: this.token ? { token: this.token } : {},
      transports: ['websocket'],
      reconnectionDelayMax: 5_000,
    });
  }

  /**
   * Follows a session from `afterSeq`: every item exactly once and in order, across reconnects (re-joins from the
   * last seq seen), plus live deltas and status updates.
   */
  follow(
    sessionId: string,
    handlers: {
      onItem: (item: Item) => void;
      onDelta?: (event: DeltaEvent) => void;
      onSession?: (session: Session) => void;
      onError?: (error: ErrorBody) => void;
    },
    afterSeq = 0,
  ): { close: () => void } {
    const socket = this.connect();
    const seq = new ItemSequencer(handlers.onItem, afterSeq);
    const join = async () => {
      const reply: JoinAck = await socket.emitWithAck('session.join', { sessionId, afterSeq: seq.last });
      if (!reply.ok) return handlers.onError?.(reply.error);
      handlers.onSession?.(reply.session);
      seq.pushAll(reply.items);
      let more = reply.hasMore;
      while (more || seq.hasGap) {
        const page = await this.request<{ items: Item[]; hasMore: boolean }>(
          'GET',
          `/sessions/${sessionId}/items?afterSeq=${seq.last}`,
        );
        seq.pushAll(page.items);
        more = page.hasMore;
        if (!page.hasMore) break;
      }
    };
    socket.on('connect', () => {
      join().catch((err: Error) => handlers.onError?.({ code: 'internal', message: err.message }));
    });
    socket.on('connect_error', (err: Error & { data?: ErrorBody }) => {
      if (err.data?.code?.startsWith('auth.')) handlers.onError?.(err.data);
    });
    socket.on('session.item', (raw) => {
      const parsed = parseItem(raw);
      if (parsed.ok && parsed.value.sessionId === sessionId) seq.push(parsed.value);
    });
    socket.on('session.delta', (event) => {
      if (event.sessionId === sessionId) handlers.onDelta?.(event);
    });
    socket.on('session.updated', (session) => {
      if (session.id === sessionId) handlers.onSession?.(session);
    });
    return { close: () => socket.close() };
  }
}
