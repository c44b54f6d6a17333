import {
  ApiError,
  connectWeb,
  HttpClient,
  mergeSnapshot,
  parseItemsPage,
  type ReplyParser,
  SessionFeed,
  type WebSocketClient,
} from '@yoke/client';
import type { Delta, ErrorBody, Item, PartialItem, PresenceEvent, Session } from '@yoke/protocol';

export { ApiError };

/** What a follower of a session is told, in order: items once each by seq, and each chunk after the item before it. */
export interface FollowHandlers {
  onItem: (item: Item) => void;
  onDelta?: (delta: Delta) => void;
  onSession?: (session: Session) => void;
  onPresence?: (event: PresenceEvent) => void;
  onError?: (error: ErrorBody) => void;
}

/** The public API as the CLI uses it: REST for commands (replies parsed), the /web socket to follow sessions live. */
export class ApiClient {
  private readonly http: HttpClient;

  constructor(
    readonly server: string,
    private readonly token: string | undefined,
  ) {
    this.http = new HttpClient(server, token);
  }

  /** The credential header, for calls made outside `request` (streamed downloads). */
  authHeaders(): Record<string, string> {
    return this.http.authHeaders();
  }

  /** A REST call whose reply is parsed with `parse` (a protocol schema) before the caller sees it. */
  request<T>(method: string, path: string, parse: ReplyParser<T>, body?: unknown): Promise<T> {
    return this.http.call(method, path, parse, body);
  }

  connect(): WebSocketClient {
    return connectWeb(this.server, this.token);
  }

  /**
   * Follows a session from `afterSeq`: every item exactly once and in order across reconnects (re-joins from the
   * last seq seen), each streamed chunk only after the item it follows, the session's updates and who is watching.
   * The text streamed so far of a stream in progress at the join comes as one chunk.
   */
  follow(sessionId: string, handlers: FollowHandlers, afterSeq = 0): { close: () => void; lastSeq: () => number } {
    const socket = this.connect();
    const asDelta = (p: PartialItem): Delta =>
      p.type === 'command_output_delta'
        ? { type: p.type, turnId: p.turnId, streamId: p.streamId, callId: p.callId ?? '', text: p.text }
        : { type: p.type, turnId: p.turnId, streamId: p.streamId, text: p.text };
    let failed = false;
    const fail = (error: ErrorBody) => {
      if (failed) return;
      failed = true;
      handlers.onError?.(error);
    };
    const feed = new SessionFeed(
      sessionId,
      {
        items: (items) => items.forEach((item) => handlers.onItem(item)),
        delta: (delta) => handlers.onDelta?.(delta),
        seed: (partials, buffered) => {
          const seen = new Set<string>();
          for (const p of partials) {
            seen.add(p.streamId);
            const own = buffered.filter((d) => d.streamId === p.streamId).map((d) => d.text);
            handlers.onDelta?.({ ...asDelta(p), text: mergeSnapshot(p.text, own) });
          }
          for (const d of buffered) if (!seen.has(d.streamId)) handlers.onDelta?.(d);
        },
        session: (session) => handlers.onSession?.(session),
        presence: (event) => handlers.onPresence?.(event),
        phase: (phase) => {
          if (phase.phase === 'refused') fail(phase.error);
        },
        historyError: (message) => {
          if (message) fail({ code: 'internal', message });
        },
      },
      async (id, after, signal) =>
        this.http.call(
          'GET',
          `/sessions/${id}/items?afterSeq=${after}`,
          (raw) => parseItemsPage(raw, id),
          undefined,
          signal,
        ),
      afterSeq,
    );
    socket.on('connect_error', (err: Error & { data?: ErrorBody }) => {
      if (err.data?.code?.startsWith('auth.')) fail(err.data);
    });
    const detach = feed.attach(socket);
    return {
      close: () => {
        detach();
        feed.close();
        socket.close();
      },
      lastSeq: () => feed.lastSeq,
    };
  }
}
