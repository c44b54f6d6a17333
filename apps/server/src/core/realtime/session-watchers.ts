import { PartialItem, rooms } from '@yoke/protocol';
import { randomUUID } from 'node:crypto';
import type { Namespace } from 'socket.io';
import { z } from 'zod';

/** How often a replica re-announces the sessions it has viewers of; an announcement not renewed for 3 times that expires. */
export const WATCH_REFRESH_MS = 20_000;
/** A replica that does not answer a cluster question in this time is treated as watching (deltas still flow). */
const ASK_TIMEOUT_MS = 2_000;

const SESSION_ROOM = rooms.session('');
const ReplicaId = z.string().min(1).max(64);
const SessionId = z.string().min(1).max(200);
const Watch = z.strictObject({ replica: ReplicaId, sessionId: SessionId });
const Watching = z.strictObject({ replica: ReplicaId, sessionIds: z.array(SessionId).max(100_000) });
const WhoAnswer = z.strictObject({ replica: ReplicaId, watching: z.boolean() });
const Partials = z.array(PartialItem).max(10_000);

/** The part of a socket.io namespace this needs: cluster-wide server-side events and the local room table. */
interface ClusterNamespace {
  serverSideEmit(event: string, ...args: unknown[]): boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  adapter: {
    rooms: Map<string, Set<string>>;
    on(event: 'create-room' | 'delete-room', listener: (room: string) => void): unknown;
  };
}

type Reply = (answer: unknown) => void;
/** Where warnings go (the server's logger). */
export type WarnLog = (context: Record<string, unknown>, message: string) => void;

/**
 * Team mode: which other replicas have viewers of a session. A replica relaying a runner's deltas sends them
 * through Redis only while another replica has a viewer of that session; otherwise they go straight to this
 * replica's sockets, with no encode, publish and echo per chunk.
 *
 * Safe by default: while a replica does not know (first delta of a session, an announcement expired, a question
 * unanswered), it publishes. A replica whose socket joins a session says so to every other replica before the join
 * is answered (`watch`), and the reply carries the partial items the relaying replica holds, so a viewer on any
 * replica joins mid-stream with the text so far. The announcement and the deltas that follow it travel on the same
 * Redis connections, so no delta published after the snapshot is skipped. Announcements are renewed every
 * WATCH_REFRESH_MS and withdrawn when the last local viewer leaves; a replica that dies stops being counted after
 * three missed renewals.
 */
export class SessionWatchers {
  readonly replica = randomUUID();
  private nsp: ClusterNamespace | null = null;
  private snapshot: (sessionId: string) => PartialItem[] = () => [];
  /** sessionId -> other replica -> announcement expiry (ms since epoch). */
  private readonly remote = new Map<string, Map<string, number>>();
  /** Sessions whose watchers this replica has asked about and not yet heard back. */
  private readonly asking = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ttlMs = 3 * WATCH_REFRESH_MS;

  constructor(private readonly warn: WarnLog = () => undefined) {}

  /**
   * Serves one /web namespace on the Redis adapter. `snapshot` gives this replica's partial items of a session
   * (those it relays), for viewers joining on other replicas.
   */
  attach(nsp: Namespace, snapshot: (sessionId: string) => PartialItem[], refreshMs = WATCH_REFRESH_MS): void {
    const cluster = nsp as unknown as ClusterNamespace;
    this.ttlMs = 3 * refreshMs;
    this.nsp = cluster;
    this.snapshot = snapshot;
    cluster.on('yoke:watch', (payload: unknown, reply: Reply) => this.onWatch(payload, reply));
    cluster.on('yoke:watching', (payload: unknown) => this.onWatching(payload));
    cluster.on('yoke:unwatch', (payload: unknown) => this.onUnwatch(payload));
    cluster.on('yoke:who', (payload: unknown, reply: Reply) => this.onWho(payload, reply));
    cluster.adapter.on('delete-room', (room) => {
      const sessionId = sessionOf(room);
      if (sessionId) cluster.serverSideEmit('yoke:unwatch', { replica: this.replica, sessionId });
    });
    this.timer = setInterval(() => this.refresh(), refreshMs);
    this.timer.unref();
  }

  /** Stops the renewals (Nest calls this on shutdown). */
  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Forget everything learnt (the Redis connection was re-established and announcements may have been missed). */
  reset(): void {
    this.remote.clear();
  }

  /**
   * Whether a delta of this session must go through Redis: true while another replica has a viewer, and while
   * that is not known yet (the question is asked once, in the background).
   */
  elsewhere(sessionId: string): boolean {
    if (!this.nsp) return true;
    if (this.asking.has(sessionId)) return true;
    const watchers = this.remote.get(sessionId);
    if (!watchers) {
      this.ask(sessionId);
      return true;
    }
    return watchers.size > 0;
  }

  /** The other replicas currently counted as watching a session (diagnostics and tests). */
  remoteReplicas(sessionId: string): string[] {
    return [...(this.remote.get(sessionId)?.keys() ?? [])];
  }

  /**
   * A socket of this replica joined the session's room: tells every other replica (so deltas relayed elsewhere
   * now come through Redis) and returns the partial items they hold.
   */
  async watch(sessionId: string): Promise<PartialItem[]> {
    const nsp = this.nsp;
    if (!nsp) return [];
    const answers = await this.askAll(nsp, 'yoke:watch', { replica: this.replica, sessionId });
    const out: PartialItem[] = [];
    for (const a of answers) {
      const parsed = Partials.safeParse(a);
      if (parsed.success) out.push(...parsed.data);
    }
    return out;
  }

  private ask(sessionId: string): void {
    const nsp = this.nsp;
    if (!nsp) return;
    this.asking.add(sessionId);
    void this.askAll(nsp, 'yoke:who', { sessionId }).then((answers) => {
      this.asking.delete(sessionId);
      const watchers = this.watchersOf(sessionId);
      const until = Date.now() + this.ttlMs;
      for (const a of answers) {
        const parsed = WhoAnswer.safeParse(a);
        if (parsed.success && parsed.data.watching) watchers.set(parsed.data.replica, until);
      }
    });
  }

  /** A cluster question with an answer from every other replica; on timeout, what came (never rejects). */
  private askAll(nsp: ClusterNamespace, event: string, payload: unknown): Promise<unknown[]> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (answers: unknown[]) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(answers);
      };
      const timer = setTimeout(() => {
        this.warn({ event }, 'a replica did not answer in time');
        finish([]);
      }, ASK_TIMEOUT_MS);
      try {
        nsp.serverSideEmit(event, payload, (_err: Error | null, answers: unknown[] = []) => finish(answers));
      } catch (err) {
        this.warn({ err, event }, 'cluster question failed');
        finish([]);
      }
    });
  }

  private watchersOf(sessionId: string): Map<string, number> {
    let watchers = this.remote.get(sessionId);
    if (!watchers) this.remote.set(sessionId, (watchers = new Map()));
    return watchers;
  }

  private onWatch(payload: unknown, reply: Reply): void {
    const parsed = Watch.safeParse(payload);
    if (!parsed.success) return reply([]);
    const { replica, sessionId } = parsed.data;
    this.watchersOf(sessionId).set(replica, Date.now() + this.ttlMs);
    reply(this.snapshot(sessionId));
  }

  private onWatching(payload: unknown): void {
    const parsed = Watching.safeParse(payload);
    if (!parsed.success) return;
    const until = Date.now() + this.ttlMs;
    for (const sessionId of parsed.data.sessionIds) this.watchersOf(sessionId).set(parsed.data.replica, until);
  }

  private onUnwatch(payload: unknown): void {
    const parsed = Watch.safeParse(payload);
    if (parsed.success) this.remote.get(parsed.data.sessionId)?.delete(parsed.data.replica);
  }

  private onWho(payload: unknown, reply: Reply): void {
    const parsed = z.strictObject({ sessionId: SessionId }).safeParse(payload);
    const watching = parsed.success && (this.nsp?.adapter.rooms.has(rooms.session(parsed.data.sessionId)) ?? false);
    reply({ replica: this.replica, watching });
  }

  /** Renews this replica's announcements and drops expired ones (and what is known of idle sessions). */
  private refresh(): void {
    const nsp = this.nsp;
    if (!nsp) return;
    const sessionIds: string[] = [];
    for (const room of nsp.adapter.rooms.keys()) {
      const sessionId = sessionOf(room);
      if (sessionId) sessionIds.push(sessionId);
    }
    if (sessionIds.length > 0) nsp.serverSideEmit('yoke:watching', { replica: this.replica, sessionIds });
    const now = Date.now();
    for (const [sessionId, watchers] of this.remote) {
      for (const [replica, until] of watchers) if (until <= now) watchers.delete(replica);
      // An empty entry is a "nobody elsewhere" answer; dropping it makes the next delta ask again.
      if (watchers.size === 0) this.remote.delete(sessionId);
    }
  }
}

function sessionOf(room: string): string | null {
  return room.startsWith(SESSION_ROOM) && room.length > SESSION_ROOM.length ? room.slice(SESSION_ROOM.length) : null;
}
