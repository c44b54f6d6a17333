import { Logger } from '@nestjs/common';
import {
  parseRoom,
  type Room,
  type RunnerRoom,
  type ServerToRunnerEvents,
  type ServerToWebEvents,
} from '@yoke/protocol';
import { EventEmitter } from 'node:events';
import type { Namespace, RemoteSocket, Socket } from 'socket.io';

/** The two socket.io namespaces, by audience: `/web` (browsers, CLI) and `/runner`. */
export type Audience = 'web' | 'runner';

/** At most this many publishes per namespace wait for it to exist; past that the oldest are dropped (and logged). */
export const HUB_QUEUE_LIMIT = 1_000;

/** What a socket.io namespace and a Redis emitter's namespace both offer: broadcasts and room operations. */
interface Broadcaster {
  to(room: string | string[]): { emit(event: string, ...args: unknown[]): unknown };
  in(room: string | string[]): {
    disconnectSockets(close?: boolean): void;
    socketsJoin(room: string | string[]): void;
    socketsLeave(room: string | string[]): void;
  };
}

/** A namespace as the hub reaches it. */
interface Binding {
  /** Every replica's sockets. */
  all: Broadcaster;
  /** This replica's sockets only (no Redis publish); null through a Redis emitter (the worker holds no sockets). */
  local: Broadcaster | null;
  /** The namespace itself, for acks and socket lists; null through a Redis emitter. */
  nsp: Namespace | null;
}

/** A socket of this replica joined or left a room built by `rooms` (other rooms, such as socket ids, are not told). */
export interface RoomChange {
  audience: Audience;
  room: Room;
  /** The socket, while this replica still holds it. */
  socket: Socket | undefined;
}

export interface RoomEvents {
  join: [RoomChange];
  leave: [RoomChange];
  /** The last socket of this replica left the room. */
  emptied: [{ audience: Audience; room: Room }];
}

/** A runner's answer to an ask: its ack payload. */
export type RunnerReply<E extends keyof ServerToRunnerEvents> = Parameters<Parameters<ServerToRunnerEvents[E]>[1]>[0];

/**
 * What the sockets of a runner room answered; `timedOut` when some did not answer in time. A process without runner
 * sockets (the worker) gets no replies at once, not timed out.
 */
export interface AskResult<E extends keyof ServerToRunnerEvents> {
  replies: RunnerReply<E>[];
  timedOut: boolean;
}

/** Server-side events between the replicas of one cluster (team mode, on the Redis adapter of /web). */
export interface ClusterLink {
  emit(event: string, payload: unknown): void;
  /** A question every other replica answers; `answers` holds what came before socket.io's own timeout. */
  ask(event: string, payload: unknown, done: (err: Error | null, answers: unknown[]) => void): void;
  on(event: string, listener: (payload: unknown, reply: (answer: unknown) => void) => void): void;
  /** The names of the rooms this replica's sockets are in. */
  localRooms(): Iterable<string>;
  hasLocalRoom(room: string): boolean;
}

export interface HubLog {
  warn(context: Record<string, unknown>, message: string): void;
  debug(context: Record<string, unknown>, message: string): void;
}

type Queued = { run: (binding: Binding) => void; drop: () => void };

/**
 * The one owner of the socket.io namespaces. Created at boot (before any socket server exists) and bound once:
 * `/web` and `/runner` by their gateways when socket.io creates them, or both by a Redis emitter in the worker.
 * Everything that reaches sockets goes through it: typed broadcasts to rooms, asks to runner rooms (acks with a
 * timeout), room operations, and the join/leave events of this replica's sockets, with rooms read by `parseRoom`.
 *
 * Publishes made before their namespace is bound are queued (at most HUB_QUEUE_LIMIT per namespace, oldest dropped
 * with a log) and sent, in order, when it is.
 */
export class RealtimeHub {
  readonly roomEvents = new EventEmitter<RoomEvents>();
  private readonly bindings: Record<Audience, Binding | null> = { web: null, runner: null };
  private readonly queued: Record<Audience, Queued[]> = { web: [], runner: [] };
  private readonly dropped: Record<Audience, number> = { web: 0, runner: 0 };
  private cluster: ClusterLink | null = null;
  private readonly clusterListeners: ((link: ClusterLink) => void)[] = [];
  private readonly log: HubLog;
  private readonly clustered: boolean;
  private readonly queueLimit: number;

  /** `clustered`: the namespaces run on the Redis adapter (team mode), so replicas can talk to each other. */
  constructor(options: { clustered: boolean; log?: HubLog; queueLimit?: number }) {
    this.clustered = options.clustered;
    this.log = options.log ?? new Logger(RealtimeHub.name);
    this.queueLimit = options.queueLimit ?? HUB_QUEUE_LIMIT;
    this.roomEvents.setMaxListeners(20);
  }

  /** The /web namespace of this process. */
  bindWeb(nsp: Namespace): void {
    this.bindNamespace('web', nsp);
    if (this.clustered) {
      const link = clusterLink(nsp);
      this.cluster = link;
      for (const listener of this.clusterListeners.splice(0)) listener(link);
    }
  }

  /** The /runner namespace of this process. */
  bindRunners(nsp: Namespace): void {
    this.bindNamespace('runner', nsp);
  }

  /**
   * A process without socket servers (the worker): broadcasts and room operations reach every replica's sockets
   * through Redis; asks to runners get no answer (acks need the runner's socket), at once.
   */
  bindEmitter(emitter: { of(nsp: string): unknown }, namespaces: Record<Audience, string>): void {
    for (const audience of ['web', 'runner'] as const) {
      this.bind(audience, { all: emitter.of(namespaces[audience]) as Broadcaster, local: null, nsp: null });
    }
  }

  isBound(audience: Audience): boolean {
    return this.bindings[audience] !== null;
  }

  /** Calls `listener` with the cluster link once /web is bound in team mode (at once if it already is). */
  onCluster(listener: (link: ClusterLink) => void): void {
    if (this.cluster) listener(this.cluster);
    else this.clusterListeners.push(listener);
  }

  /** A web event to the sockets of a room (or rooms) on every replica. */
  emit<E extends keyof ServerToWebEvents>(
    room: string | string[],
    event: E,
    ...args: Parameters<ServerToWebEvents[E]>
  ): void {
    this.whenBound('web', (b) => b.all.to(room).emit(event, ...args));
  }

  /** A web event to this replica's sockets of a room only (no Redis publish); every replica's in the worker. */
  emitLocal<E extends keyof ServerToWebEvents>(
    room: string | string[],
    event: E,
    ...args: Parameters<ServerToWebEvents[E]>
  ): void {
    this.whenBound('web', (b) => (b.local ?? b.all).to(room).emit(event, ...args));
  }

  /**
   * A runner command that answers with an ack, to every socket of a runner room (whichever replica holds them).
   * Resolves after `timeoutMs` at the latest, counted from this call even while /runner is not bound yet.
   */
  ask<E extends keyof ServerToRunnerEvents>(
    room: RunnerRoom,
    event: E,
    payload: Parameters<ServerToRunnerEvents[E]>[0],
    timeoutMs: number,
  ): Promise<AskResult<E>> {
    return new Promise((resolve) => {
      const deadline = Date.now() + timeoutMs;
      let settled = false;
      const settle = (result: AskResult<E>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => settle({ replies: [], timedOut: true }), timeoutMs);
      timer.unref();
      this.whenBound(
        'runner',
        (b) => {
          if (settled) return;
          if (!b.nsp) {
            this.log.debug({ room, event }, 'this process holds no runner sockets: nothing to ask');
            return settle({ replies: [], timedOut: false });
          }
          (
            b.nsp.to(room).timeout(Math.max(0, deadline - Date.now())) as unknown as {
              emit(event: string, payload: unknown, cb: (err: Error | null, replies?: RunnerReply<E>[]) => void): void;
            }
          ).emit(event, payload, (err, replies = []) => settle({ replies, timedOut: err !== null }));
        },
        () => settle({ replies: [], timedOut: true }),
      );
    });
  }

  /** Closes every socket of a room, on every replica. */
  disconnect(audience: Audience, room: string): void {
    this.whenBound(audience, (b) => b.all.in(room).disconnectSockets(true));
  }

  /** Puts the sockets of `room` (every replica) into `target` too. */
  socketsJoin(audience: Audience, room: string, target: string): void {
    this.whenBound(audience, (b) => b.all.in(room).socketsJoin(target));
  }

  /** Takes the sockets of `room` (every replica) out of `target`. */
  socketsLeave(audience: Audience, room: string, target: string): void {
    this.whenBound(audience, (b) => b.all.in(room).socketsLeave(target));
  }

  /** The sockets of a room on every replica; fails while this process holds no such namespace. */
  fetchSockets(audience: Audience, room: string): Promise<RemoteSocket<Record<string, never>, unknown>[]> {
    const nsp = this.bindings[audience]?.nsp;
    if (!nsp) return Promise.reject(new Error(`the ${audience} namespace is not bound in this process`));
    return nsp.in(room).fetchSockets() as Promise<RemoteSocket<Record<string, never>, unknown>[]>;
  }

  private bindNamespace(audience: Audience, nsp: Namespace): void {
    this.bind(audience, { all: nsp as unknown as Broadcaster, local: nsp.local as unknown as Broadcaster, nsp });
    const change = (room: string, id: string): RoomChange | null => {
      const parsed = parseRoom(room);
      return parsed && { audience, room: parsed, socket: nsp.sockets.get(id) };
    };
    nsp.adapter.on('join-room', (room: string, id: string) => {
      const c = change(room, id);
      if (c) this.roomEvents.emit('join', c);
    });
    nsp.adapter.on('leave-room', (room: string, id: string) => {
      const c = change(room, id);
      if (c) this.roomEvents.emit('leave', c);
    });
    nsp.adapter.on('delete-room', (room: string) => {
      const parsed = parseRoom(room);
      if (parsed) this.roomEvents.emit('emptied', { audience, room: parsed });
    });
  }

  private bind(audience: Audience, binding: Binding): void {
    if (this.bindings[audience]) throw new Error(`the ${audience} namespace is already bound`);
    this.bindings[audience] = binding;
    const queued = this.queued[audience].splice(0);
    const dropped = this.dropped[audience];
    this.dropped[audience] = 0;
    if (queued.length || dropped) {
      this.log.warn(
        { audience, sent: queued.length, dropped },
        'sending the publishes queued before the namespace existed',
      );
    }
    for (const q of queued) q.run(binding);
  }

  private whenBound(audience: Audience, run: (binding: Binding) => void, drop: () => void = () => undefined): void {
    const binding = this.bindings[audience];
    if (binding) return run(binding);
    const queue = this.queued[audience];
    queue.push({ run, drop });
    if (queue.length <= this.queueLimit) return;
    queue.shift()?.drop();
    if (this.dropped[audience]++ === 0) {
      this.log.warn(
        { audience, limit: this.queueLimit },
        'the namespace does not exist yet and its queue is full: dropping the oldest publishes',
      );
    }
  }
}

function clusterLink(nsp: Namespace): ClusterLink {
  return {
    emit: (event, payload) => void nsp.serverSideEmit(event, payload),
    ask: (event, payload, done) => void nsp.serverSideEmit(event, payload, done),
    on: (event, listener) => void nsp.on(event, listener as never),
    localRooms: () => nsp.adapter.rooms.keys(),
    hasLocalRoom: (room) => nsp.adapter.rooms.has(room),
  };
}
