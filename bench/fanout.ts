/**
 * bench/fanout: how fast the real Yoke server fans one runner's stream out to 100 viewers, against a bare
 * socket.io relay doing nothing but `io.to(room).emit(...)` on the same machine, with the same clients, payloads
 * and rate. Prints figures; never a test. Exits 1 only when an event was lost or duplicated (or the run broke).
 *
 *   npm run build && npm run bench:fanout -- [flags]
 *     --mode team|embedded    real Postgres + Redis adapter (default team), or PGlite + in-process bus
 *     --viewers 100           /web sockets joined to the session
 *     --remote-viewers 0      team mode: this many of them connect to a second server replica (the Redis path)
 *     --viewer-procs 1        read the viewers in this process (1), or spread them over N child processes
 *                             (bench/fanout-viewers.ts; the same ones read Yoke's and the bare relay's viewers)
 *     --rate 500 --seconds 5  deltas per second and for how long, split into --rounds 10 (yoke and bare interleaved)
 *     --item-rate 200 --item-seconds 5 --item-batch 1   persisted items (each batch awaits its ack)
 *     --warmup 1              seconds of unmeasured warm-up per target
 *     --bare-adapter memory|redis   the baseline's socket.io adapter (redis isolates the adapter's share)
 *     --quiet-wait 30 --quiet-pct 25   before each round, wait up to 30 s for neighbours to drop below 25% of a core
 *     --drain-timeout 20 --max-seconds 600
 *
 * Phases:
 *   yoke deltas        one raw /runner socket emits `session.delta` at --rate; every /web viewer records
 *                      receive time - send time (epoch ms to the µs: one clock for every viewer process).
 *   bare relay deltas  bench/bare-relay.ts in a child process; identical publisher, viewers, payloads and rate.
 *   yoke items         the same runner emits `session.items` batches (consecutive seqs, `notice` items), awaiting
 *                      each ack, at up to --item-rate items/s: the persisted path (validate, Postgres, publish).
 * Everything listens on and connects to 127.0.0.1 only; counts are fixed; a watchdog stops the run.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  type DeltaEvent,
  type EnrolReply,
  type HelloAck,
  type ItemsAck,
  type JoinAck,
  NS_RUNNER,
  NS_WEB,
  type Session,
} from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';
import { type Mode, REDIS_URL } from '../test/support/env';
import { freePort, Proc, ROOT, SERVER_MAIN } from '../test/support/processes';
import { connected, type Stack, startStack } from '../test/support/stack';
import {
  type Figures,
  type FromViewers,
  Histogram,
  mergeFigures,
  now,
  Recorder,
  textOf,
  type ToViewers,
  type ViewerEvent,
  type ViewerGroup,
  type WireFigures,
} from './fanout-viewers';

/**
 * The p99 ratio Yoke may reach against the bare relay: 1.2x with up to 100 viewers on one server, 1.5x beyond that
 * (the bar for 1,000 viewers over 2 replicas).
 */
const targetP99Ratio = (viewers: number) => (viewers <= 100 ? 1.2 : 1.5);
const AGENT_YAML = 'name: bench\nprompt: p\nharness: yoke\nmodel: m\n';
const ACK_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------------------------
// options

const { values: flags } = parseArgs({
  options: {
    mode: { type: 'string', default: 'team' },
    viewers: { type: 'string', default: '100' },
    'remote-viewers': { type: 'string', default: '0' },
    'viewer-procs': { type: 'string', default: '1' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '5' },
    'item-rate': { type: 'string', default: '200' },
    'item-seconds': { type: 'string', default: '5' },
    'item-batch': { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '10' },
    'quiet-wait': { type: 'string', default: '30' },
    'quiet-pct': { type: 'string', default: '25' },
    'bare-adapter': { type: 'string', default: 'memory' },
    'drain-timeout': { type: 'string', default: '20' },
    'max-seconds': { type: 'string', default: '600' },
    help: { type: 'boolean', default: false },
  },
});

function num(name: keyof typeof flags, min: number, max: number): number {
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
  return v;
}

if (flags.help) {
  console.log(readFileSync(__filename, 'utf8').split('*/')[0]);
  process.exit(0);
}
const mode = flags.mode as Mode;
if (mode !== 'team' && mode !== 'embedded') throw new Error('--mode must be team or embedded');
const bareAdapter = flags['bare-adapter'];
if (bareAdapter !== 'memory' && bareAdapter !== 'redis') throw new Error('--bare-adapter must be memory or redis');
const VIEWERS = Math.round(num('viewers', 1, 1000));
const REMOTE_VIEWERS = Math.round(num('remote-viewers', 0, VIEWERS));
if (REMOTE_VIEWERS > 0 && mode !== 'team') throw new Error('--remote-viewers needs team mode (replicas share Redis)');
const VIEWER_PROCS = Math.round(num('viewer-procs', 1, Math.min(16, VIEWERS)));
const RATE = num('rate', 1, 50_000);
const SECONDS = num('seconds', 0.1, 60);
const ITEM_RATE = num('item-rate', 1, 5_000);
const ITEM_SECONDS = num('item-seconds', 0, 60);
const ITEM_BATCH = Math.round(num('item-batch', 1, 500));
const WARMUP = num('warmup', 0, 10);
const ROUNDS = Math.round(num('rounds', 1, 50));
const QUIET_WAIT_MS = num('quiet-wait', 0, 600) * 1000;
const QUIET_PCT = num('quiet-pct', 1, 1000);
const DRAIN_MS = num('drain-timeout', 1, 120) * 1000;
const MAX_MS = num('max-seconds', 30, 3600) * 1000;

const DELTA_EVENTS = Math.max(1, Math.round(RATE * SECONDS));
const ITEM_EVENTS = Math.round((ITEM_RATE * ITEM_SECONDS) / ITEM_BATCH) * ITEM_BATCH;

// ---------------------------------------------------------------------------------------------------------------
// clean-up and watchdog: everything started is stopped, whatever happens

const cleanups: (() => unknown)[] = [];
const hardKills: (() => void)[] = [];

async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error('bench: clean-up step failed:', err);
    }
  }
}

function abort(why: string): void {
  console.error(`bench: ${why}; stopping`);
  setTimeout(() => {
    for (const k of hardKills) k();
    process.exit(1);
  }, 15_000).unref();
  void cleanup().finally(() => process.exit(1));
}

const watchdog = setTimeout(() => abort(`still running after ${MAX_MS / 1000} s (--max-seconds)`), MAX_MS);
process.once('SIGINT', () => abort('interrupted'));
process.once('SIGTERM', () => abort('terminated'));

// ---------------------------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function ackOk<T extends { ok: boolean }>(what: string, p: Promise<T>): Promise<T> {
  const reply = await p;
  if (!reply?.ok) throw new Error(`${what} was refused: ${JSON.stringify(reply)}`);
  return reply;
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where /proc is not there. */
function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine has been busy so far (all cores, from /proc/stat), or NaN. */
function machineCpuSeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - ticks[3] - ticks[4]) / 100; // minus idle and iowait
  } catch {
    return NaN;
  }
}

/** CPU seconds Redis has used so far (INFO cpu), or NaN. */
async function redisCpuSeconds(redis: RedisLike | null): Promise<number> {
  if (!redis) return NaN;
  try {
    const info = await redis.info('cpu');
    const get = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
    return get('used_cpu_user') + get('used_cpu_sys');
  } catch {
    return NaN;
  }
}
interface RedisLike {
  info(section: string): Promise<string>;
  quit(): Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// measurement

/** The sending side of one phase: the stamps of its first and last event. */
class Stamps {
  first = NaN;
  last = NaN;

  constructor(readonly tag: string) {}

  /** The text of event i, sent at `sentAt` (`now()`): what the viewers' Recorder parses. */
  text(i: number, sentAt: number): string {
    if (Number.isNaN(this.first)) this.first = sentAt;
    this.last = sentAt;
    return `${this.tag}|${i}|${sentAt}`;
  }
}

/** One phase as measured: what was sent, and what all the viewers received. */
interface Phase {
  stamps: Stamps;
  figures: Figures;
}

/** CPU seconds used during a phase by each party, and the phase's wall time (first send to last delivery). */
interface Cpu {
  relay: number;
  redis: number;
  bench: number;
  machine: number;
  wall: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The latencies of some phases pooled, at the viewers of the runner's replica, the second one, or both. */
function pooled(phases: Phase[], which: 'local' | 'remote' | 'all'): Histogram {
  const h = new Histogram();
  for (const { figures } of phases) {
    if (which !== 'remote') h.merge(figures.local);
    if (which !== 'local') h.merge(figures.remote);
  }
  return h;
}

interface Row {
  label: string;
  events: number;
  sentPerSec: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
  duplicates: number;
  stray: number;
  cpu: Cpu;
  ackP50?: number;
  ackP99?: number;
}

/** One row from the phases (rounds) of one kind: latencies pooled, rates over the summed phase times. */
function summarize(label: string, phases: Phase[], cpus: Cpu[], acks?: number[]): Row {
  const all = pooled(phases, 'all');
  const sum = (f: (p: Phase) => number) => phases.reduce((n, p) => n + f(p), 0);
  const ackSorted = acks ? Float64Array.from(acks).sort() : undefined;
  const cpu = cpus.reduce((a, c) => ({
    relay: a.relay + c.relay,
    redis: a.redis + c.redis,
    bench: a.bench + c.bench,
    machine: a.machine + c.machine,
    wall: a.wall + c.wall,
  }));
  return {
    label,
    events: sum((p) => p.figures.events),
    // n events of a phase are spread over n-1 send intervals.
    sentPerSec: sum((p) => p.figures.events - 1) / (sum((p) => Math.max(p.stamps.last - p.stamps.first, 1e-3)) / 1000),
    deliveriesPerSec:
      sum((p) => p.figures.received) / (sum((p) => Math.max(p.figures.lastReceive - p.stamps.first, 1e-3)) / 1000),
    p50: all.percentile(50),
    p99: all.percentile(99),
    max: all.count ? all.max : NaN,
    lost: sum((p) => missing(p.figures)),
    duplicates: sum((p) => p.figures.duplicates),
    stray: sum((p) => p.figures.stray),
    cpu,
    ackP50: ackSorted && percentile(ackSorted, 50),
    ackP99: ackSorted && percentile(ackSorted, 99),
  };
}

const missing = (f: Figures) => f.events * f.viewers - f.received;

/** One system's viewers, wherever they are read: started before a phase's first send, ended after its drain. */
interface Viewers {
  readonly count: number;
  /** Arrivals so far in the running phase (from a child process: as of its last progress report). */
  readonly received: number;
  /** Child processes reading viewers, whose CPU counts as the bench's. */
  readonly pids: number[];
  start(tag: string, events: number, event: ViewerEvent): Promise<void>;
  end(): Promise<Figures>;
}

/** Viewer sockets read by this process, as before `--viewer-procs`; [0, split) watch the runner's replica. */
class LocalViewers implements Viewers {
  readonly pids: number[] = [];
  private phase: { rec: Recorder; detach: () => void } | null = null;

  constructor(
    private readonly sockets: Socket[],
    private readonly split = sockets.length,
  ) {}

  get count(): number {
    return this.sockets.length;
  }

  get received(): number {
    return this.phase?.rec.received ?? 0;
  }

  start(tag: string, events: number, event: ViewerEvent): Promise<void> {
    const rec = new Recorder(tag, events, this.sockets.length, this.split);
    const offs = this.sockets.map((v, vi) => {
      const onEvent = (payload: unknown) => rec.receive(vi, textOf(event, payload), now());
      v.on(event, onEvent);
      return () => v.off(event, onEvent);
    });
    this.phase = { rec, detach: () => offs.forEach((off) => off()) };
    return Promise.resolve();
  }

  end(): Promise<Figures> {
    const { rec, detach } = this.phase!;
    this.phase = null;
    detach();
    return Promise.resolve(rec.figures());
  }
}

/** A child process running bench/fanout-viewers.ts: one request at a time, progress reports in between. */
class ViewerProc {
  readonly child: ChildProcess;
  received = 0;
  private waiting: { resolve: (m: FromViewers) => void; reject: (e: Error) => void } | null = null;

  constructor(index: number) {
    this.child = fork(join(__dirname, 'fanout-viewers.ts'), [], {
      cwd: ROOT,
      execArgv: ['-r', join(__dirname, 'register.js')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromViewers) => {
      if (m.op === 'progress') {
        this.received = m.received;
        return;
      }
      const w = this.waiting;
      this.waiting = null;
      if (m.op === 'error') w?.reject(new Error(`viewer process ${index}: ${m.message}`));
      else w?.resolve(m);
    });
    this.child.once('exit', (code, signal) => {
      this.waiting?.reject(new Error(`viewer process ${index} exited (${code ?? signal})`));
      this.waiting = null;
    });
  }

  request(m: ToViewers): Promise<FromViewers> {
    if (this.waiting) throw new Error('a viewer process request is already pending');
    if (m.op === 'start') this.received = 0;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(m, (err) => {
        if (err) reject(err);
      });
    });
  }
}

/**
 * One system's viewers spread over the viewer processes: viewer i is read by process i mod N, so every process
 * holds its share of each replica's viewers.
 */
class ChildViewers implements Viewers {
  constructor(
    private readonly procs: ViewerProc[],
    private readonly target: string,
    readonly count: number,
  ) {}

  get pids(): number[] {
    return this.procs.map((p) => p.child.pid!);
  }

  get received(): number {
    return this.procs.reduce((n, p) => n + p.received, 0);
  }

  /** Opens and joins the viewers; `groups` are all the viewers (runner's replica first), dealt out by index. */
  async join(sessionId: string, groups: ViewerGroup[]): Promise<void> {
    const n = this.procs.length;
    let first = 0;
    const shares = this.procs.map(() => [] as ViewerGroup[]);
    for (const g of groups) {
      shares.forEach((share, p) => {
        // Viewers first..first+count-1 that are p modulo n.
        const count = Math.floor((first + g.count - 1 - p) / n) - Math.floor((first - 1 - p) / n);
        share.push({ ...g, count });
      });
      first += g.count;
    }
    await Promise.all(
      this.procs.map((p, i) => p.request({ op: 'join', target: this.target, sessionId, groups: shares[i] })),
    );
  }

  async start(tag: string, events: number, event: ViewerEvent): Promise<void> {
    await Promise.all(this.procs.map((p) => p.request({ op: 'start', target: this.target, tag, events, event })));
  }

  async end(): Promise<Figures> {
    const replies = await Promise.all(this.procs.map((p) => p.request({ op: 'end' })));
    return mergeFigures(
      replies.map((r) => {
        const f = (r as { figures: WireFigures }).figures;
        return {
          ...f,
          // JSON carries NaN as null.
          lastReceive: f.lastReceive ?? NaN,
          local: Histogram.fromSparse(f.local),
          remote: Histogram.fromSparse(f.remote),
        };
      }),
    );
  }
}

/** The viewer processes shared by both systems (none with `--viewer-procs 1`). */
function startViewerProcs(): ViewerProc[] {
  if (VIEWER_PROCS === 1) return [];
  const procs = Array.from({ length: VIEWER_PROCS }, (_, i) => new ViewerProc(i));
  for (const p of procs) {
    hardKills.push(() => p.child.kill('SIGKILL'));
    cleanups.push(() => {
      if (p.child.connected) p.child.disconnect();
    });
  }
  return procs;
}

interface Target {
  label: string;
  sessionId: string;
  /** The process doing the relaying (the Yoke server or the bare relay), for its CPU figure. */
  relayPid: number | undefined;
  redis: RedisLike | null;
  publisher: Socket;
  viewers: Viewers;
}

/** CPU seconds used so far by the bench: this process and its viewer processes. */
function benchCpuSeconds(viewers: Viewers): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + viewers.pids.reduce((n, pid) => n + procCpuSeconds(pid), 0);
}

/**
 * Has every viewer record `event` under `tag`, runs `send` paced to `rate` units per second, then waits until
 * every viewer has every one of the `events` or nothing has arrived for the drain timeout.
 */
async function runPhase(
  target: Target,
  tag: string,
  events: number,
  event: ViewerEvent,
  rate: number,
  units: number,
  send: (unit: number, stamps: Stamps) => void | Promise<void>,
): Promise<Phase & { cpu: Cpu }> {
  const { viewers } = target;
  const stamps = new Stamps(tag);
  await viewers.start(tag, events, event);
  const redis0 = await redisCpuSeconds(target.redis);
  const relay0 = procCpuSeconds(target.relayPid);
  const machine0 = machineCpuSeconds();
  const bench0 = benchCpuSeconds(viewers);
  const t0 = now();
  let figures: Figures;
  try {
    // Steady pacing: every millisecond or so, send whatever is due by now.
    let u = 0;
    while (u < units) {
      const due = Math.min(units, Math.floor(((now() - t0) * rate) / 1000) + 1);
      while (u < due) await send(u++, stamps);
      if (u < units) await sleep(1);
    }
    const expected = events * viewers.count;
    let seen = -1;
    let idleSince = now();
    while (viewers.received < expected && now() - idleSince < DRAIN_MS) {
      if (viewers.received !== seen) {
        seen = viewers.received;
        idleSince = now();
      }
      await sleep(5);
    }
  } finally {
    figures = await viewers.end();
  }
  const bench = benchCpuSeconds(viewers) - bench0;
  const machine = machineCpuSeconds() - machine0;
  const relay = procCpuSeconds(target.relayPid) - relay0;
  const redis = (await redisCpuSeconds(target.redis)) - redis0;
  const wall = ((Number.isNaN(figures.lastReceive) ? now() : figures.lastReceive) - t0) / 1000;
  return { stamps, figures, cpu: { relay, redis, bench, machine, wall } };
}

/** One delta phase: `events` deltas at RATE, tagged `tag`. */
async function deltaPhase(target: Target, tag: string, events: number): Promise<Phase & { cpu: Cpu }> {
  const phase = await runPhase(target, tag, events, 'session.delta', RATE, events, (i, stamps) => {
    const payload: DeltaEvent = {
      sessionId: target.sessionId,
      afterSeq: 0,
      delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's1', text: stamps.text(i, now()) },
    };
    target.publisher.emit('session.delta', payload);
  });
  const lost = missing(phase.figures);
  if (lost > 0 || phase.figures.duplicates > 0) {
    console.error(`bench: ${target.label} ${tag}: ${lost} deliveries missing, ${phase.figures.duplicates} duplicated`);
  }
  return phase;
}

/** Persisted items: batches of ITEM_BATCH consecutive seqs, each acked before the next (a warm-up first). */
async function itemPhases(target: Target, lastSeq: number): Promise<Row> {
  let seq = lastSeq;
  const acks: number[] = [];
  const sendBatch = (measure: boolean) => async (b: number, stamps: Stamps) => {
    const sentAt = now();
    const createdAt = new Date().toISOString();
    const items = Array.from({ length: ITEM_BATCH }, (_, k) => ({
      seq: seq + 1 + k,
      createdAt,
      type: 'notice',
      level: 'info',
      text: stamps.text(b * ITEM_BATCH + k, sentAt),
    }));
    const reply = await ackOk<ItemsAck>(
      'session.items',
      target.publisher
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('session.items', { sessionId: target.sessionId, items }) as Promise<ItemsAck>,
    );
    if (reply.ok && reply.lastSeq !== seq + ITEM_BATCH)
      throw new Error(`items ack lastSeq ${reply.lastSeq}, expected ${seq + ITEM_BATCH}`);
    seq += ITEM_BATCH;
    if (measure) acks.push(now() - sentAt);
  };
  const batchRate = ITEM_RATE / ITEM_BATCH;
  const warmBatches = Math.round((ITEM_RATE * Math.min(WARMUP, 1)) / ITEM_BATCH);
  if (warmBatches > 0) {
    const warm = await runPhase(
      target,
      'iw',
      warmBatches * ITEM_BATCH,
      'session.items',
      batchRate,
      warmBatches,
      sendBatch(false),
    );
    const lost = missing(warm.figures);
    if (lost > 0) console.error(`bench: items warm-up: ${lost} deliveries missing`);
  }
  const phase = await runPhase(
    target,
    'im',
    ITEM_EVENTS,
    'session.items',
    batchRate,
    ITEM_EVENTS / ITEM_BATCH,
    sendBatch(true),
  );
  return summarize('yoke items', [phase], [phase.cpu], acks);
}

// ---------------------------------------------------------------------------------------------------------------
// the two systems under test

/** All viewers joining at once is a reconnect storm: the server takes them in turn, so allow it time, and say how long. */
const JOIN_ALL_TIMEOUT_MS = 180_000;

/**
 * Opens `groups` of viewers (the runner's replica first) and joins them all to the session at once, in this
 * process or dealt out to the viewer processes.
 */
async function joinAll(
  procs: ViewerProc[],
  target: string,
  sessionId: string,
  groups: (ViewerGroup & { open: () => Socket })[],
): Promise<Viewers> {
  const t0 = performance.now();
  let viewers: Viewers;
  if (procs.length > 0) {
    const children = new ChildViewers(procs, target, VIEWERS);
    await children.join(
      sessionId,
      groups.map(({ url, token, count }) => ({ url, token, count })),
    );
    viewers = children;
  } else {
    const sockets = groups.flatMap((g) => Array.from({ length: g.count }, () => g.open()));
    await Promise.all(
      sockets.map((v, i) =>
        ackOk<JoinAck>(
          `viewer ${i} session.join`,
          v.timeout(JOIN_ALL_TIMEOUT_MS).emitWithAck('session.join', { sessionId, afterSeq: 0 }),
        ),
      ),
    );
    viewers = new LocalViewers(sockets, groups[0].count);
  }
  console.log(`${viewers.count} viewers joined at once in ${(performance.now() - t0).toFixed(0)} ms`);
  return viewers;
}

async function connectRedis(): Promise<RedisLike> {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  cleanups.push(() => r.quit());
  return r;
}

/** The real server (startStack), one raw runner socket that enrolled, said hello and owns a session, and the viewers. */
async function setUpYoke(procs: ViewerProc[]): Promise<Target & { lastSeq: number; stack: Stack }> {
  const stack = await startStack(mode);
  cleanups.push(() => stack.stop());
  hardKills.push(() => stack.server.child.kill('SIGKILL'));
  const redis = mode === 'team' ? await connectRedis() : null;

  const token = await stack.enrolmentToken();
  const enrol = await stack.api<EnrolReply>('POST', '/runners/enrol', { token, name: 'bench-runner' });
  if (enrol.status >= 300) throw new Error(`enrol failed: ${enrol.status} ${JSON.stringify(enrol.body)}`);
  const { credential, runnerId } = enrol.body;

  const runner = stack.rawRunnerSocket(credential);
  runner.on('session.input', (_entry: unknown, ack: (r: unknown) => void) => ack({ ok: true, applied: true }));
  await connected(runner);
  await ackOk<HelloAck>('runner.hello', runner.timeout(ACK_TIMEOUT_MS).emitWithAck('runner.hello', { sessions: [] }));

  const created = await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT_YAML, runnerId });
  if (created.status >= 300)
    throw new Error(`session create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const session = created.body;

  // The last REMOTE_VIEWERS viewers watch through a second replica: their deltas travel through Redis.
  const replica = REMOTE_VIEWERS > 0 ? await stack.startReplica() : null;
  const groups = [
    { url: stack.url, token: stack.token, count: VIEWERS - REMOTE_VIEWERS, open: () => stack.webSocket() },
  ];
  if (replica) groups.push({ url: replica.url, token: stack.token, count: REMOTE_VIEWERS, open: replica.webSocket });
  const viewers = await joinAll(procs, 'yoke', session.id, groups);
  return {
    label: 'yoke',
    sessionId: session.id,
    relayPid: stack.server.child.pid,
    redis,
    publisher: runner,
    viewers,
    lastSeq: session.lastSeq,
    stack,
  };
}

/** bench/bare-relay.ts in a child process, with a publisher and viewers made exactly like the stack's. */
async function setUpBare(procs: ViewerProc[], sessionId: string): Promise<Target> {
  const port = await freePort();
  const args = ['--port', String(port), '--adapter', bareAdapter!, '--redis-url', REDIS_URL];
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', join(__dirname, 'register.js'), join(__dirname, 'bare-relay.ts'), ...args],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const relay = new Proc(child);
  hardKills.push(() => child.kill('SIGKILL'));
  cleanups.push(() => relay.kill('SIGTERM'));
  await relay.waitForLine((l) => l.includes('bare relay listening'), 30_000);
  const redis = bareAdapter === 'redis' ? await connectRedis() : null;

  // The same client options as test/support/stack.ts's rawRunnerSocket and webSocket.
  const url = `http://127.0.0.1:${port}`;
  const sockets: Socket[] = [];
  cleanups.push(() => sockets.forEach((s) => s.close()));
  const publisher = io(`${url}${NS_RUNNER}`, { auth: {}, transports: ['websocket'], reconnection: false });
  sockets.push(publisher);
  await connected(publisher);
  const open = () => {
    const s = io(`${url}${NS_WEB}`, { auth: {}, transports: ['websocket'], reconnection: true });
    sockets.push(s);
    return s;
  };
  const viewers = await joinAll(procs, 'bare', sessionId, [{ url, count: VIEWERS, open }]);
  return { label: 'bare relay', sessionId, relayPid: child.pid, redis, publisher, viewers };
}

// ---------------------------------------------------------------------------------------------------------------
// report

function fmt(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function printTable(rows: Row[]): void {
  const pct = (cpu: Cpu, s: number) => fmt((s / cpu.wall) * 100, 0);
  const cols: [string, number, (r: Row) => string][] = [
    ['phase', 18, (r) => r.label],
    ['events', 7, (r) => String(r.events)],
    ['sent/s', 7, (r) => fmt(r.sentPerSec, 0)],
    ['deliveries/s', 12, (r) => fmt(r.deliveriesPerSec, 0)],
    ['p50 ms', 8, (r) => fmt(r.p50, 2)],
    ['p99 ms', 8, (r) => fmt(r.p99, 2)],
    ['max ms', 8, (r) => fmt(r.max, 2)],
    ['lost', 5, (r) => String(r.lost)],
    ['dups', 5, (r) => String(r.duplicates)],
    ['relay%', 7, (r) => pct(r.cpu, r.cpu.relay)],
    ['redis%', 7, (r) => pct(r.cpu, r.cpu.redis)],
    ['bench%', 7, (r) => pct(r.cpu, r.cpu.bench)],
    [
      'other%',
      7,
      (r) => pct(r.cpu, r.cpu.machine - r.cpu.relay - r.cpu.bench - (Number.isNaN(r.cpu.redis) ? 0 : r.cpu.redis)),
    ],
  ];
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join(' ');
  console.log(line(cols.map((c) => c[0])));
  for (const r of rows) console.log(line(cols.map((c) => c[2](r))));
  console.log(
    '(CPU columns: % of one core over the phases, first send to last delivery; relay = the Yoke server or the bare relay;\n' +
      ' other = everything else on the machine, Postgres and any neighbour included)',
  );
}

/** The machine's busy CPU (% of one core) over `ms`, with the bench's own processes idle. */
async function machineBusy(ms: number): Promise<number> {
  const m0 = machineCpuSeconds();
  await sleep(ms);
  return ((machineCpuSeconds() - m0) / (ms / 1000)) * 100;
}

/** On a shared machine: waits (bounded) until neighbours leave the CPU alone; returns the last busy figure. */
async function waitQuiet(): Promise<number> {
  const deadline = performance.now() + QUIET_WAIT_MS;
  for (;;) {
    const busy = await machineBusy(500);
    if (!(busy > QUIET_PCT) || performance.now() > deadline) return busy;
  }
}

async function main(): Promise<number> {
  const missing = [SERVER_MAIN, join(ROOT, 'libs/protocol/dist/index.js')].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(`bench: ${missing.join(', ')} not built; run \`npm run build\` first`);
    return 1;
  }
  const perRound = Math.max(1, Math.round(DELTA_EVENTS / ROUNDS));
  console.log(
    `fanout bench: ${mode} mode, 1 runner socket -> ${VIEWERS} viewers${REMOTE_VIEWERS ? ` (${REMOTE_VIEWERS} on a second replica)` : ''}` +
      `${VIEWER_PROCS > 1 ? `, read by ${VIEWER_PROCS} viewer processes` : ''}; deltas ${RATE}/s x ${SECONDS} s ` +
      `(${ROUNDS} rounds of ${perRound}, yoke and bare interleaved), items ${ITEM_RATE}/s x ${ITEM_SECONDS} s in batches ` +
      `of ${ITEM_BATCH} (${ITEM_EVENTS} items); ${WARMUP} s warm-up each; bare relay on the ${bareAdapter} adapter`,
  );
  const busy = await machineBusy(1000);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`machine: ${os.cpus().length} cores, ${fmt(busy, 0)}% of one core busy before the run, load ${load}`);

  const procs = startViewerProcs();
  const yoke = await setUpYoke(procs);
  const bare = await setUpBare(procs, yoke.sessionId);
  const warmEvents = Math.round(RATE * WARMUP);
  if (warmEvents > 0) for (const t of [yoke, bare]) await deltaPhase(t, 'w', warmEvents);

  const runs = new Map<Target, { phases: Phase[]; cpus: Cpu[] }>([
    [yoke, { phases: [], cpus: [] }],
    [bare, { phases: [], cpus: [] }],
  ]);
  const before: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    before.push(await waitQuiet());
    for (const t of round % 2 === 0 ? [yoke, bare] : [bare, yoke]) {
      const { cpu, ...phase } = await deltaPhase(t, `m${round}`, perRound);
      runs.get(t)!.phases.push(phase);
      runs.get(t)!.cpus.push(cpu);
    }
  }
  const yokeRuns = runs.get(yoke)!;
  const bareRuns = runs.get(bare)!;
  const rows = [
    summarize('yoke deltas', yokeRuns.phases, yokeRuns.cpus),
    summarize('bare relay deltas', bareRuns.phases, bareRuns.cpus),
  ];
  if (ITEM_EVENTS > 0) {
    await waitQuiet();
    rows.push(await itemPhases(yoke, yoke.lastSeq));
  }
  const refused = yoke.stack.server.lines.filter((l) => l.includes('delta refused')).length;
  await cleanup();

  console.log(
    '\nper round (deltas; other% = CPU used by everything but the relay, Redis and the bench, during the round):',
  );
  console.log('round  yoke p50/p99 ms  bare p50/p99 ms  ratio p50/p99  other% yoke/bare  busy% before');
  const other = (c: Cpu) =>
    Math.max(0, ((c.machine - c.relay - c.bench - (Number.isNaN(c.redis) ? 0 : c.redis)) / c.wall) * 100);
  const ratios: [number, number][] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const y = pooled([yokeRuns.phases[i]], 'all');
    const b = pooled([bareRuns.phases[i]], 'all');
    const [y50, y99, b50, b99] = [y.percentile(50), y.percentile(99), b.percentile(50), b.percentile(99)];
    ratios.push([y50 / b50, y99 / b99]);
    console.log(
      [
        String(i + 1).padStart(5),
        `${fmt(y50, 2)}/${fmt(y99, 2)}`.padStart(16),
        `${fmt(b50, 2)}/${fmt(b99, 2)}`.padStart(16),
        `${fmt(y50 / b50, 2)}/${fmt(y99 / b99, 2)}`.padStart(14),
        `${fmt(other(yokeRuns.cpus[i]), 0)}/${fmt(other(bareRuns.cpus[i]), 0)}`.padStart(17),
        fmt(before[i], 0).padStart(13),
      ].join(' '),
    );
  }

  console.log('');
  printTable(rows);
  const [yd, bd, items] = rows;
  if (items?.ackP50 !== undefined) {
    console.log(
      `yoke items: ack round trip p50 ${fmt(items.ackP50, 2)} ms, p99 ${fmt(items.ackP99, 2)} ms (emit -> validated, stored, published -> ack)`,
    );
  }
  if (REMOTE_VIEWERS > 0) {
    const local = VIEWERS - REMOTE_VIEWERS;
    const at = (which: 'local' | 'remote') => {
      const h = pooled(yokeRuns.phases, which);
      return `p50 ${fmt(h.percentile(50), 2)} ms, p99 ${fmt(h.percentile(99), 2)} ms`;
    };
    console.log(
      `yoke deltas by replica: ${local} viewers on the runner's replica ${at('local')}; ` +
        `${REMOTE_VIEWERS} on the other replica (through Redis) ${at('remote')}`,
    );
  }
  if (refused > 0) console.log(`note: the server logged ${refused} refused deltas`);
  const strays = rows.reduce((n, r) => n + r.stray, 0);
  if (strays > 0) console.log(`note: ${strays} events arrived outside their phase (ignored)`);
  const busiest = Math.max(...[...yokeRuns.cpus, ...bareRuns.cpus].map(other));
  if (busiest > 25)
    console.log(`warning: other processes used up to ${fmt(busiest, 0)}% of a core during a round; figures are noisy`);
  const r50 = yd.p50 / bd.p50;
  const r99 = yd.p99 / bd.p99;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  console.log(
    `\nratio yoke/bare (deltas): p50 ${fmt(r50, 2)}x, p99 ${fmt(r99, 2)}x` +
      `   (median of the per-round ratios: p50 ${fmt(median(ratios.map((r) => r[0])), 2)}x, p99 ${fmt(median(ratios.map((r) => r[1])), 2)}x)`,
  );
  const target = targetP99Ratio(VIEWERS);
  console.log(`target (${VIEWERS} viewers): p99 ratio <= ${target} — ${r99 <= target ? 'PASS' : 'FAIL'}`);
  const broken = rows.filter((r) => r.lost > 0 || r.duplicates > 0);
  for (const r of broken) console.log(`LOSS: ${r.label}: ${r.lost} lost, ${r.duplicates} duplicated`);
  return broken.length > 0 ? 1 : 0;
}

main().then(
  async (code) => {
    clearTimeout(watchdog);
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    clearTimeout(watchdog);
    console.error('bench: failed:', err);
    await cleanup();
    process.exit(1);
  },
);
