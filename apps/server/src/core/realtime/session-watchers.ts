import { PartialItem, parseRoom, rooms } from '@yoke/protocol';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ClusterLink, RealtimeHub } from './realtime-hub';

/** How often a replica re-announces the sessions it has viewers of; an announcement not renewed for 3 times that expires. */
export const WATCH_REFRESH_MS = 20_000;
/** A replica that does not answer a cluster question in this time is treated as watching (deltas still flow). */
const ASK_TIMEOUT_MS = 2_000;

const ReplicaId = z.string().min(1).max(64);
const SessionId = z.string().min(1).max(200);
const Watch = z.strictObject({ replica: ReplicaId, sessionId: SessionId });
const Watching = z.strictObject({ replica: ReplicaId, sessionIds: z.array(SessionId).max(100_000) });
const WhoAnswer = z.strictObject({ replica: ReplicaId, watching: z.boolean() });
const Partials = z.array(PartialItem).max(10_000);

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
 *
 * It starts when the hub binds /web in team mode; until then (and in embedded mode, and in the worker) every delta is
 * published.
 */
export class SessionWatchers {
  readonly replica = randomUUID();
  private link: ClusterLink | null = null;
  private snapshot: (sessionId: string) => PartialItem[] = () => [];
  /** sessionId -> other replica -> announcement expiry (ms since epoch). */
  private readonly remote = new Map<string, Map<string, number>>();
  /** Sessions whose watchers this replica has asked about and not yet heard back. */
  private readonly asking = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly ttlMs: number;

  constructor(
    hub: RealtimeHub,
    private readonly warn: WarnLog = () => undefined,
    private readonly refreshMs = WATCH_REFRESH_MS,
  ) {
    this.ttlMs = 3 * refreshMs;
    hub.onCluster((link) => this.start(link));
    hub.roomEvents.on('emptied', ({ audience, room }) => {
      if (audience === 'web' && room.kind === 'session') {
        this.link?.emit('yoke:unwatch', { replica: this.replica, sessionId: room.sessionId });
      }
    });
  }

  /**
   * Where this replica's partial items of a session come from (those it relays), for viewers joining on other
   * replicas. Set once, by the relay, when it is created.
   */
  serveSnapshots(snapshot: (sessionId: string) => PartialItem[]): void {
    this.snapshot = snapshot;
  }

  private start(link: ClusterLink): void {
    this.link = link;
    link.on('yoke:watch', (payload: unknown, reply: Reply) => this.onWatch(payload, reply));
    link.on('yoke:watching', (payload: unknown) => this.onWatching(payload));
    link.on('yoke:unwatch', (payload: unknown) => this.onUnwatch(payload));
    link.on('yoke:who', (payload: unknown, reply: Reply) => this.onWho(payload, reply));
    this.timer = setInterval(() => this.refresh(), this.refreshMs);
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
    if (!this.link) return true;
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
    const link = this.link;
    if (!link) return [];
    const answers = await this.askAll(link, 'yoke:watch', { replica: this.replica, sessionId });
    const out: PartialItem[] = [];
    for (const a of answers) {
      const parsed = Partials.safeParse(a);
      if (parsed.success) out.push(...parsed.data);
    }
    return out;
  }

  private ask(sessionId: string): void {
    const link = this.link;
    if (!link) return;
    this.asking.add(sessionId);
    void this.askAll(link, 'yoke:who', { sessionId }).then((answers) => {
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
  private askAll(link: ClusterLink, event: string, payload: unknown): Promise<unknown[]> {
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
        link.ask(event, payload, (_err, answers = []) => finish(answers));
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
    const watching = parsed.success && (this.link?.hasLocalRoom(rooms.session(parsed.data.sessionId)) ?? false);
    reply({ replica: this.replica, watching });
  }

  /** Renews this replica's announcements and drops expired ones (and what is known of idle sessions). */
  private refresh(): void {
    const link = this.link;
    if (!link) return;
    const sessionIds: string[] = [];
    for (const name of link.localRooms()) {
      const room = parseRoom(name);
      if (room?.kind === 'session') sessionIds.push(room.sessionId);
    }
    if (sessionIds.length > 0) link.emit('yoke:watching', { replica: this.replica, sessionIds });
    const now = Date.now();
    for (const [sessionId, watchers] of this.remote) {
      for (const [replica, until] of watchers) if (until <= now) watchers.delete(replica);
      // An empty entry is a "nobody elsewhere" answer; dropping it makes the next delta ask again.
      if (watchers.size === 0) this.remote.delete(sessionId);
    }
  }
}
