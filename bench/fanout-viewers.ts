/**
 * The viewer side of bench/fanout.ts. Imported by fanout.ts for what both sides share (the clock, the recorder and
 * its latency histogram), and run by it as a child process when `--viewer-procs` is above 1, so that 1,000 viewer
 * sockets per system are not all read by one Node process that would fall behind its own viewers.
 *
 * Usage (fanout.ts does this): node -r ./bench/register.js bench/fanout-viewers.ts, with an IPC channel. The parent
 * sends, in turn:
 *   {op: 'join', target, sessionId, groups: [{url, token?, count}]}  opens the viewers (first group = the runner's
 *                                                                    replica), joins them all at once -> 'joined'
 *   {op: 'start', target, tag, events, event}  records `event` on that target's viewers -> 'started'; meanwhile
 *                                              {op: 'progress', received} every few ms while the count moves
 *   {op: 'end'}                                stops recording -> {op: 'figures', figures}
 * Any failure is answered with {op: 'error', message}. It exits when the parent disconnects.
 */
import { performance } from 'node:perf_hooks';
import { NS_WEB } from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';

/**
 * Milliseconds since the epoch, to the microsecond. Send stamps and receive times use this clock in every process,
 * so a viewer process can subtract a stamp made by the publisher's process.
 */
export const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------------------------
// latency histogram: 10 µs steps up to 100 ms, then 1 ms steps up to 60 s (and one bucket for anything later)

const FINE_MS = 0.01;
const FINE_UNTIL_MS = 100;
const FINE_BUCKETS = FINE_UNTIL_MS / FINE_MS;
const COARSE_UNTIL_MS = 60_000;
const BUCKETS = FINE_BUCKETS + (COARSE_UNTIL_MS - FINE_UNTIL_MS) + 1;

export class Histogram {
  readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  max = -Infinity;

  add(ms: number): void {
    const b =
      ms < FINE_UNTIL_MS
        ? Math.max(0, Math.floor(ms / FINE_MS))
        : Math.min(BUCKETS - 1, FINE_BUCKETS + Math.floor(ms - FINE_UNTIL_MS));
    this.counts[b]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram): this {
    for (let b = 0; b < BUCKETS; b++) this.counts[b] += other.counts[b];
    this.count += other.count;
    this.max = Math.max(this.max, other.max);
    return this;
  }

  /** The p-th percentile, as the upper edge of its bucket (never above the largest value seen); NaN if empty. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.min(this.count, Math.max(1, Math.ceil((p / 100) * this.count)));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) {
        const edge = b < FINE_BUCKETS ? (b + 1) * FINE_MS : FINE_UNTIL_MS + (b - FINE_BUCKETS + 1);
        return Math.min(edge, this.max);
      }
    }
    return this.max;
  }

  /** The non-empty buckets as [bucket, count, ...], for sending between processes. */
  toSparse(): { pairs: number[]; max: number } {
    const pairs: number[] = [];
    for (let b = 0; b < BUCKETS; b++) if (this.counts[b] > 0) pairs.push(b, this.counts[b]);
    return { pairs, max: this.max };
  }

  static fromSparse({ pairs, max }: { pairs: number[]; max: number | null }): Histogram {
    const h = new Histogram();
    for (let i = 0; i < pairs.length; i += 2) {
      h.counts[pairs[i]] += pairs[i + 1];
      h.count += pairs[i + 1];
    }
    // JSON carries -Infinity (an empty histogram's max) as null.
    h.max = max ?? -Infinity;
    return h;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// what the viewers of one phase received

/** A phase's arrivals, from one viewer process or all of them merged. */
export interface Figures {
  events: number;
  viewers: number;
  received: number;
  duplicates: number;
  stray: number;
  lastReceive: number;
  /** Latencies at the viewers of the runner's replica, and at those of the second replica. */
  local: Histogram;
  remote: Histogram;
}

/** One set of figures from several viewer processes' (lastReceive NaN when nothing arrived anywhere). */
export function mergeFigures(parts: Figures[]): Figures {
  return parts.reduce((a, f) => ({
    events: a.events,
    viewers: a.viewers + f.viewers,
    received: a.received + f.received,
    duplicates: a.duplicates + f.duplicates,
    stray: a.stray + f.stray,
    lastReceive: Number.isNaN(f.lastReceive) ? a.lastReceive : Math.max(f.lastReceive, a.lastReceive || -Infinity),
    local: new Histogram().merge(a.local).merge(f.local),
    remote: new Histogram().merge(a.remote).merge(f.remote),
  }));
}

/**
 * What every viewer received in one phase. Event i of a phase carries `${tag}|${i}|${sentAt}` in its text, where
 * sentAt is `now()` just before the publisher emitted it. Viewers [0, split) watch through the runner's replica,
 * the rest through the second one.
 */
export class Recorder {
  private readonly counts: Uint8Array;
  private readonly prefix: string;
  private readonly local = new Histogram();
  private readonly remote = new Histogram();
  received = 0;
  duplicates = 0;
  stray = 0;
  lastReceive = NaN;

  constructor(
    readonly tag: string,
    readonly events: number,
    readonly viewers: number,
    private readonly split = viewers,
  ) {
    this.counts = new Uint8Array(events * viewers);
    this.prefix = `${tag}|`;
  }

  /**
   * Records one arrival. The server may merge consecutive chunks of a stream into one delta (their texts
   * concatenated), so a text can hold several `${tag}|${i}|${sentAt}` records; each counts as its own delivery.
   */
  receive(viewer: number, text: string | undefined, at: number): void {
    if (typeof text !== 'string' || !text.startsWith(this.prefix)) {
      this.stray++;
      return;
    }
    for (let pos = 0; pos < text.length;) {
      if (!text.startsWith(this.prefix, pos)) {
        this.stray++;
        return;
      }
      const bar = text.indexOf('|', pos + this.prefix.length);
      const next = text.indexOf(this.prefix, bar + 1);
      const end = next === -1 ? text.length : next;
      this.record(viewer, Number(text.slice(pos + this.prefix.length, bar)), Number(text.slice(bar + 1, end)), at);
      pos = end;
    }
  }

  private record(viewer: number, i: number, sentAt: number, at: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.events || !Number.isFinite(sentAt)) {
      this.stray++;
      return;
    }
    const k = viewer * this.events + i;
    if (this.counts[k] > 0) {
      this.duplicates++;
      if (this.counts[k] < 255) this.counts[k]++;
      return;
    }
    this.counts[k] = 1;
    (viewer < this.split ? this.local : this.remote).add(at - sentAt);
    this.received++;
    this.lastReceive = at;
  }

  get missing(): number {
    return this.events * this.viewers - this.received;
  }

  figures(): Figures {
    const { events, viewers, received, duplicates, stray, lastReceive, local, remote } = this;
    return { events, viewers, received, duplicates, stray, lastReceive, local, remote };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the child process

export type ViewerEvent = 'session.delta' | 'session.items';

export interface ViewerGroup {
  url: string;
  token?: string;
  count: number;
}

export type ToViewers =
  | { op: 'join'; target: string; sessionId: string; groups: ViewerGroup[] }
  | { op: 'start'; target: string; tag: string; events: number; event: ViewerEvent }
  | { op: 'end' };

export type WireFigures = Omit<Figures, 'local' | 'remote'> & {
  local: ReturnType<Histogram['toSparse']>;
  remote: ReturnType<Histogram['toSparse']>;
};

export type FromViewers =
  | { op: 'joined' }
  | { op: 'started' }
  | { op: 'progress'; received: number }
  | { op: 'figures'; figures: WireFigures }
  | { op: 'error'; message: string };

/**
 * The text a viewer records from a `session.delta`, or from the `notice` items of a `session.items` batch (their
 * texts concatenated: each carries its own record, and each counts as its own delivery).
 */
export function textOf(event: ViewerEvent, payload: unknown): string | undefined {
  if (event === 'session.delta') return (payload as { delta?: { text?: string } } | undefined)?.delta?.text;
  if (!Array.isArray(payload)) return undefined;
  const texts = (payload as { type?: string; text?: string }[]).flatMap((i) => (i?.type === 'notice' ? [i.text] : []));
  return texts.length > 0 ? texts.join('') : undefined;
}

const PROGRESS_MS = 10;

function child(): void {
  const send = (m: FromViewers) => process.send!(m);
  const targets = new Map<string, { sockets: Socket[]; split: number }>();
  let phase: { rec: Recorder; detach: () => void; timer: NodeJS.Timeout } | null = null;

  const join = async (m: Extract<ToViewers, { op: 'join' }>) => {
    // Made exactly like test/support/stack.ts's webSocket (and fanout.ts's own viewers).
    const sockets = m.groups.flatMap((g) =>
      Array.from({ length: g.count }, () =>
        io(`${g.url}${NS_WEB}`, {
          auth: g.token ? { token: g.token } : {},
          transports: ['websocket'],
          reconnection: true,
        }),
      ),
    );
    targets.set(m.target, { sockets, split: m.groups[0]?.count ?? 0 });
    await Promise.all(
      sockets.map(async (s, i) => {
        const reply = (await s
          .timeout(180_000)
          .emitWithAck('session.join', { sessionId: m.sessionId, afterSeq: 0 })) as {
          ok?: boolean;
        };
        if (!reply?.ok) throw new Error(`viewer ${i} session.join was refused: ${JSON.stringify(reply)}`);
      }),
    );
  };

  const start = (m: Extract<ToViewers, { op: 'start' }>) => {
    const t = targets.get(m.target);
    if (!t) throw new Error(`no viewers for ${m.target}`);
    const rec = new Recorder(m.tag, m.events, t.sockets.length, t.split);
    const offs = t.sockets.map((s, vi) => {
      const on = (payload: unknown) => rec.receive(vi, textOf(m.event, payload), now());
      s.on(m.event, on);
      return () => s.off(m.event, on);
    });
    let told = 0;
    const timer = setInterval(() => {
      if (rec.received !== told) send({ op: 'progress', received: (told = rec.received) });
    }, PROGRESS_MS);
    phase = { rec, detach: () => offs.forEach((off) => off()), timer };
  };

  const end = (): WireFigures => {
    if (!phase) throw new Error('no phase is running');
    const { rec, detach, timer } = phase;
    phase = null;
    detach();
    clearInterval(timer);
    const f = rec.figures();
    return { ...f, local: f.local.toSparse(), remote: f.remote.toSparse() };
  };

  process.on('message', (m: ToViewers) => {
    void (async () => {
      try {
        if (m.op === 'join') {
          await join(m);
          send({ op: 'joined' });
        } else if (m.op === 'start') {
          start(m);
          send({ op: 'started' });
        } else {
          send({ op: 'figures', figures: end() });
        }
      } catch (err) {
        send({ op: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  process.on('disconnect', () => {
    for (const t of targets.values()) for (const s of t.sockets) s.close();
    process.exit(0);
  });
}

if (require.main === module) child();
