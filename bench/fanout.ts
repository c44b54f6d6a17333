/**
 * bench/fanout: how fast the real Yoke server fans one runner's stream out to 100 viewers, against a bare
 * socket.io relay doing nothing but `io.to(room).emit(...)` on the same machine, with the same clients, payloads
 * and rate. Prints figures; never a test. Exits 1 only when an event was lost or duplicated (or the run broke).
 *
 *   npm run build && npm run bench:fanout -- [flags]
 *     --mode team|embedded    real Postgres + Redis adapter (default team), or PGlite + in-process bus
 *     --viewers 100           /web sockets joined to the session
 *     --remote-viewers 0      team mode: this many of them connect to a second server replica (the Redis path)
 *     --rate 500 --seconds 5  deltas per second and for how long, split into --rounds 10 (yoke and bare interleaved)
 *     --item-rate 200 --item-seconds 5 --item-batch 1   persisted items (each batch awaits its ack)
 *     --warmup 1              seconds of unmeasured warm-up per target
 *     --bare-adapter memory|redis   the baseline's socket.io adapter (redis isolates the adapter's share)
 *     --quiet-wait 30 --quiet-pct 25   before each round, wait up to 30 s for neighbours to drop below 25% of a core
 *     --drain-timeout 20 --max-seconds 600
 *
 * Phases:
 *   yoke deltas        one raw /runner socket emits `session.delta` at --rate; every /web viewer records
 *                      receive time - send time (performance.now; the viewers live in this process).
 *   bare relay deltas  bench/bare-relay.ts in a child process; identical publisher, viewers, payloads and rate.
 *   yoke items         the same runner emits `session.items` batches (consecutive seqs, `notice` items), awaiting
 *                      each ack, at up to --item-rate items/s: the persisted path (validate, Postgres, publish).
 * Everything listens on and connects to 127.0.0.1 only; counts are fixed; a watchdog stops the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  type DeltaEvent,
  type EnrolReply,
  type HelloAck,
  type Item,
  type ItemsAck,
  type JoinAck,
  NS_RUNNER,
  NS_WEB,
  type Session,
} from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';
import { type Mode, REDIS_URL } from '../test/support/env';
import { freePort, Proc, ROOT, SERVER_MAIN } from '../test/support/processes';
import { type Stack, startStack } from '../test/support/stack';

const TARGET_P99_RATIO = 1.5;
const AGENT_YAML = 'name: bench\nprompt: p\nharness: yoke\nmodel: m\n';
const ACK_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------------------------
// options

const { values: flags } = parseArgs({
  options: {
    mode: { type: 'string', default: 'team' },
    viewers: { type: 'string', default: '100' },
    'remote-viewers': { type: 'string', default: '0' },
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

function connected(socket: Socket): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
}

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

/**
 * What every viewer received in one phase. Event i of a phase carries `${tag}|${i}|${sentAt}` in its text, where
 * sentAt is performance.now() just before the publisher emitted it; the viewers live in this same process.
 */
class Recorder {
  readonly counts: Uint8Array;
  readonly latencies: Float64Array;
  private readonly prefix: string;
  received = 0;
  duplicates = 0;
  stray = 0;
  firstSend = NaN;
  lastSend = NaN;
  lastReceive = NaN;

  constructor(
    readonly tag: string,
    readonly events: number,
    readonly viewers: number,
  ) {
    this.counts = new Uint8Array(events * viewers);
    this.latencies = new Float64Array(events * viewers);
    this.prefix = `${tag}|`;
  }

  text(i: number, sentAt: number): string {
    if (Number.isNaN(this.firstSend)) this.firstSend = sentAt;
    this.lastSend = sentAt;
    return `${this.tag}|${i}|${sentAt}`;
  }

  /**
   * Records one arrival. The server may merge consecutive chunks of a stream into one delta (their texts
   * concatenated), so a text can hold several `${tag}|${i}|${sentAt}` records; each counts as its own delivery.
   */
  receive(viewer: number, text: string | undefined, now: number): void {
    if (typeof text !== 'string' || !text.startsWith(this.prefix)) {
      this.stray++;
      return;
    }
    for (let at = 0; at < text.length;) {
      if (!text.startsWith(this.prefix, at)) {
        this.stray++;
        return;
      }
      const bar = text.indexOf('|', at + this.prefix.length);
      const next = text.indexOf(this.prefix, bar + 1);
      const end = next === -1 ? text.length : next;
      this.record(viewer, Number(text.slice(at + this.prefix.length, bar)), Number(text.slice(bar + 1, end)), now);
      at = end;
    }
  }

  private record(viewer: number, i: number, sentAt: number, now: number): void {
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
    this.latencies[k] = now - sentAt;
    this.received++;
    this.lastReceive = now;
  }

  get missing(): number {
    return this.events * this.viewers - this.received;
  }

  /** The latencies of the deliveries that arrived, sorted. */
  sorted(): Float64Array {
    return this.sortedFor(0, this.viewers);
  }

  /** The latencies that arrived at viewers [from, to), sorted. */
  sortedFor(from: number, to: number): Float64Array {
    const got: number[] = [];
    for (let k = from * this.events; k < to * this.events; k++) if (this.counts[k] > 0) got.push(this.latencies[k]);
    return Float64Array.from(got).sort();
  }
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
function summarize(label: string, recs: Recorder[], cpus: Cpu[], acks?: number[]): Row {
  const parts = recs.map((r) => r.sorted());
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  all.sort();
  const sum = (f: (r: Recorder) => number) => recs.reduce((n, r) => n + f(r), 0);
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
    events: sum((r) => r.events),
    // n events of a phase are spread over n-1 send intervals.
    sentPerSec: sum((r) => r.events - 1) / (sum((r) => Math.max(r.lastSend - r.firstSend, 1e-3)) / 1000),
    deliveriesPerSec: sum((r) => r.received) / (sum((r) => Math.max(r.lastReceive - r.firstSend, 1e-3)) / 1000),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all.length ? all[all.length - 1] : NaN,
    lost: sum((r) => r.missing),
    duplicates: sum((r) => r.duplicates),
    stray: sum((r) => r.stray),
    cpu,
    ackP50: ackSorted && percentile(ackSorted, 50),
    ackP99: ackSorted && percentile(ackSorted, 99),
  };
}

interface Target {
  label: string;
  sessionId: string;
  /** The process doing the relaying (the Yoke server or the bare relay), for its CPU figure. */
  relayPid: number | undefined;
  redis: RedisLike | null;
  publisher: Socket;
  viewers: Socket[];
}

/**
 * Attaches one recorder to every viewer for `event`, runs `send` paced to `rate` units per second, then waits until
 * every viewer has every event or nothing has arrived for the drain timeout.
 */
async function runPhase(
  target: Target,
  rec: Recorder,
  event: 'session.delta' | 'session.item',
  extract: (payload: unknown) => string | undefined,
  rate: number,
  units: number,
  send: (unit: number) => void | Promise<void>,
): Promise<Cpu> {
  const detach = target.viewers.map((v, vi) => {
    const onEvent = (payload: unknown) => rec.receive(vi, extract(payload), performance.now());
    v.on(event, onEvent);
    return () => v.off(event, onEvent);
  });
  const redis0 = await redisCpuSeconds(target.redis);
  const relay0 = procCpuSeconds(target.relayPid);
  const machine0 = machineCpuSeconds();
  const bench0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    // Steady pacing: every millisecond or so, send whatever is due by now.
    let u = 0;
    while (u < units) {
      const due = Math.min(units, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (u < due) await send(u++);
      if (u < units) await sleep(1);
    }
    let seen = -1;
    let idleSince = performance.now();
    while (rec.missing > 0 && performance.now() - idleSince < DRAIN_MS) {
      if (rec.received !== seen) {
        seen = rec.received;
        idleSince = performance.now();
      }
      await sleep(5);
    }
  } finally {
    for (const d of detach) d();
  }
  const bench = process.cpuUsage(bench0);
  const machine = machineCpuSeconds() - machine0;
  const relay = procCpuSeconds(target.relayPid) - relay0;
  const redis = (await redisCpuSeconds(target.redis)) - redis0;
  const wall = ((Number.isNaN(rec.lastReceive) ? performance.now() : rec.lastReceive) - t0) / 1000;
  return { relay, redis, bench: (bench.user + bench.system) / 1e6, machine, wall };
}

const deltaText = (p: unknown) => (p as DeltaEvent | undefined)?.delta?.text;
const itemText = (p: unknown) => {
  const item = p as Item | undefined;
  return item?.type === 'notice' ? item.text : undefined;
};

/** One delta phase: `events` deltas at RATE, tagged `tag`. */
async function deltaPhase(target: Target, tag: string, events: number): Promise<{ rec: Recorder; cpu: Cpu }> {
  const rec = new Recorder(tag, events, target.viewers.length);
  const cpu = await runPhase(target, rec, 'session.delta', deltaText, RATE, events, (i) => {
    const payload: DeltaEvent = {
      sessionId: target.sessionId,
      afterSeq: 0,
      delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's1', text: rec.text(i, performance.now()) },
    };
    target.publisher.emit('session.delta', payload);
  });
  if (rec.missing > 0 || rec.duplicates > 0) {
    console.error(`bench: ${target.label} ${tag}: ${rec.missing} deliveries missing, ${rec.duplicates} duplicated`);
  }
  return { rec, cpu };
}

/** Persisted items: batches of ITEM_BATCH consecutive seqs, each acked before the next (a warm-up first). */
async function itemPhases(target: Target, lastSeq: number): Promise<Row> {
  let seq = lastSeq;
  const acks: number[] = [];
  const sendBatch = (rec: Recorder, measure: boolean) => async (b: number) => {
    const sentAt = performance.now();
    const createdAt = new Date().toISOString();
    const items = Array.from({ length: ITEM_BATCH }, (_, k) => ({
      seq: seq + 1 + k,
      createdAt,
      type: 'notice',
      level: 'info',
      text: rec.text(b * ITEM_BATCH + k, sentAt),
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
    if (measure) acks.push(performance.now() - sentAt);
  };
  const batchRate = ITEM_RATE / ITEM_BATCH;
  const warmBatches = Math.round((ITEM_RATE * Math.min(WARMUP, 1)) / ITEM_BATCH);
  if (warmBatches > 0) {
    const warm = new Recorder('iw', warmBatches * ITEM_BATCH, target.viewers.length);
    await runPhase(target, warm, 'session.item', itemText, batchRate, warmBatches, sendBatch(warm, false));
    if (warm.missing > 0) console.error(`bench: items warm-up: ${warm.missing} deliveries missing`);
  }
  const rec = new Recorder('im', ITEM_EVENTS, target.viewers.length);
  const cpu = await runPhase(
    target,
    rec,
    'session.item',
    itemText,
    batchRate,
    ITEM_EVENTS / ITEM_BATCH,
    sendBatch(rec, true),
  );
  return summarize('yoke items', [rec], [cpu], acks);
}

// ---------------------------------------------------------------------------------------------------------------
// the two systems under test

async function joinAll(viewers: Socket[], sessionId: string): Promise<void> {
  await Promise.all(
    viewers.map((v, i) =>
      ackOk<JoinAck>(
        `viewer ${i} session.join`,
        v.timeout(ACK_TIMEOUT_MS).emitWithAck('session.join', { sessionId, afterSeq: 0 }),
      ),
    ),
  );
}

async function connectRedis(): Promise<RedisLike> {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  cleanups.push(() => r.quit());
  return r;
}

/** The real server (startStack), one raw runner socket that enrolled, said hello and owns a session, and the viewers. */
async function setUpYoke(): Promise<Target & { lastSeq: number; stack: Stack }> {
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
  const viewers = Array.from({ length: VIEWERS }, (_, i) =>
    replica && i >= VIEWERS - REMOTE_VIEWERS ? replica.webSocket() : stack.webSocket(),
  );
  await joinAll(viewers, session.id);
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
async function setUpBare(sessionId: string): Promise<Target> {
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
  const viewers = Array.from({ length: VIEWERS }, () =>
    io(`${url}${NS_WEB}`, { auth: {}, transports: ['websocket'], reconnection: true }),
  );
  sockets.push(...viewers);
  await joinAll(viewers, sessionId);
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
    `fanout bench: ${mode} mode, 1 runner socket -> ${VIEWERS} viewers${REMOTE_VIEWERS ? ` (${REMOTE_VIEWERS} on a second replica)` : ''}; deltas ${RATE}/s x ${SECONDS} s ` +
      `(${ROUNDS} rounds of ${perRound}, yoke and bare interleaved), items ${ITEM_RATE}/s x ${ITEM_SECONDS} s in batches ` +
      `of ${ITEM_BATCH} (${ITEM_EVENTS} items); ${WARMUP} s warm-up each; bare relay on the ${bareAdapter} adapter`,
  );
  const busy = await machineBusy(1000);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`machine: ${os.cpus().length} cores, ${fmt(busy, 0)}% of one core busy before the run, load ${load}`);

  const yoke = await setUpYoke();
  const bare = await setUpBare(yoke.sessionId);
  const warmEvents = Math.round(RATE * WARMUP);
  if (warmEvents > 0) for (const t of [yoke, bare]) await deltaPhase(t, 'w', warmEvents);

  const runs = new Map<Target, { recs: Recorder[]; cpus: Cpu[] }>([
    [yoke, { recs: [], cpus: [] }],
    [bare, { recs: [], cpus: [] }],
  ]);
  const before: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    before.push(await waitQuiet());
    for (const t of round % 2 === 0 ? [yoke, bare] : [bare, yoke]) {
      const { rec, cpu } = await deltaPhase(t, `m${round}`, perRound);
      runs.get(t)!.recs.push(rec);
      runs.get(t)!.cpus.push(cpu);
    }
  }
  const yokeRuns = runs.get(yoke)!;
  const bareRuns = runs.get(bare)!;
  const rows = [
    summarize('yoke deltas', yokeRuns.recs, yokeRuns.cpus),
    summarize('bare relay deltas', bareRuns.recs, bareRuns.cpus),
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
    const y = yokeRuns.recs[i].sorted();
    const b = bareRuns.recs[i].sorted();
    const [y50, y99, b50, b99] = [percentile(y, 50), percentile(y, 99), percentile(b, 50), percentile(b, 99)];
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
    const pooled = (from: number, to: number) => {
      const parts = yokeRuns.recs.map((r) => r.sortedFor(from, to));
      const all = Float64Array.from(parts.flatMap((p) => Array.from(p))).sort();
      return `p50 ${fmt(percentile(all, 50), 2)} ms, p99 ${fmt(percentile(all, 99), 2)} ms`;
    };
    console.log(
      `yoke deltas by replica: ${local} viewers on the runner's replica ${pooled(0, local)}; ` +
        `${REMOTE_VIEWERS} on the other replica (through Redis) ${pooled(local, VIEWERS)}`,
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
  console.log(`target: p99 ratio <= ${TARGET_P99_RATIO} — ${r99 <= TARGET_P99_RATIO ? 'PASS' : 'FAIL'}`);
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
