/**
 * bench/ingest: how fast one session's items get from the runner's outbox into Postgres, with one batch in flight
 * (window 1) against a window of several batches (window 8), in the same run against the same server. Prints
 * figures; never a test. Exits 1 when an item was lost, stored twice or altered, or the run broke.
 *
 *   npm run build && npm run bench:ingest -- [flags]
 *     --items 20000         items per window, each a `notice` whose text names its seq
 *     --batch 20            items per batch (YOKE_OUTBOX_BATCH_ITEMS)
 *     --windows 1,8         the windows to compare (YOKE_OUTBOX_WINDOW), each on a session of its own, in this order
 *                           (1,8,8,1 interleaves them against a machine whose load changes; each is judged by its
 *                           slowest run)
 *     --produce 20          items appended to the outbox per event-loop turn (a harness emitting in bursts)
 *     --max-seconds 900
 *     --cpu-prof DIR        a CPU profile of the server process, written into DIR when it stops
 *
 * The runner side is the runner's own code: its Outbox (each item flushed to disk before it is sent), its
 * RunnerConnection (hello, persistedSeq) and its OutboxSender, in this process, against the real server in team mode
 * (Postgres + Redis, startStack). A batch's ack time is from its emit to the ack covering its last seq.
 * Throughput is items over the time from the first append to the last ack. At the end every session's items are
 * read back from Postgres: count, seqs 1..N and each text. "server cpu" is the server process's CPU time per 1,000
 * items (from /proc): steadier than a rate on a shared machine, and what a server-side change moves.
 *
 * Targets: >= 2,000 items/s for one session (window 8) with zero loss, and a 20-item batch acked in <= 10 ms at
 * p99 when it is alone on the wire (window 1; with a full window a batch also waits for the ones ahead of it).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Client } from 'pg';
import { type EnrolReply, type ItemDraft, MAX_BATCH_ITEMS, type Session } from '@yoke/protocol';
import { Outbox } from '../apps/runner/src/outbox';
import { OutboxSender, type OutboxSource } from '../apps/runner/src/outbox-sender';
import { RunnerConnection } from '../apps/runner/src/runner-connection';
import { createTestDatabase } from '../test/support/env';
import { type Stack, startStack } from '../test/support/stack';

const AGENT_YAML = 'name: bench\nprompt: p\nharness: yoke\nmodel: m\n';
const TARGET_ITEMS_PER_SEC = 2_000;
const TARGET_ACK_P99_MS = 10;

const { values: flags } = parseArgs({
  options: {
    items: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '20' },
    windows: { type: 'string', default: '1,8' },
    produce: { type: 'string', default: '20' },
    'max-seconds': { type: 'string', default: '900' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(readFileSync(__filename, 'utf8').split('*/')[0]);
  process.exit(0);
}

function num(name: keyof typeof flags, min: number, max: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
  return v;
}

const ITEMS = num('items', 1, 1_000_000);
const BATCH = num('batch', 1, MAX_BATCH_ITEMS);
const PRODUCE = num('produce', 1, 10_000);
const MAX_MS = num('max-seconds', 30, 3600) * 1000;
const WINDOWS = (flags.windows ?? '').split(',').map((w) => {
  const n = Number(w);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error('--windows must list integers in [1, 64]');
  return n;
});

// ---------------------------------------------------------------------------------------------------------------
// clean-up and watchdog

const cleanups: (() => unknown)[] = [];

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
  setTimeout(() => process.exit(1), 15_000).unref();
  void cleanup().finally(() => process.exit(1));
}

const watchdog = setTimeout(() => abort(`still running after ${MAX_MS / 1000} s (--max-seconds)`), MAX_MS);
process.once('SIGINT', () => abort('interrupted'));
process.once('SIGTERM', () => abort('terminated'));

const tick = () => new Promise<void>((r) => setImmediate(r));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
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

/** The server's own histogram of a batch's handling (validate, store, publish; `yoke_item_batch_ingest_seconds`). */
async function ingestBuckets(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^yoke_item_batch_ingest_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
    buckets.set(m[1], Number(m[2]));
  }
  return buckets;
}

/**
 * The share of a window's batches the server handled within each bound, from two scrapes of its histogram: what of
 * an ack's time is the server's (the rest is the socket both ways and the runner's event loop).
 */
function serverShare(before: Map<string, number>, after: Map<string, number>): string {
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  if (total === 0) return 'no batch counted';
  return ['0.0025', '0.005', '0.01', '0.025']
    .map((le) => {
      const within = (after.get(le) ?? 0) - (before.get(le) ?? 0);
      return `${((within / total) * 100).toFixed(1)}% ≤ ${Number(le) * 1000} ms`;
    })
    .join(', ');
}

const textOf = (seq: number) => `ingest item ${seq}`;

/** An outbox that tells the bench when an ack moved it. */
class TimedOutbox extends Outbox {
  onAck: (seq: number) => void = () => undefined;

  override ack(seq: number): void {
    super.ack(seq);
    this.onAck(this.acked);
  }
}

interface Row {
  window: number;
  sessionId: string;
  itemsPerSec: number;
  ackP50: number;
  ackP99: number;
  ackMax: number;
  batches: number;
  seconds: number;
  resends: number;
  /** CPU the server process used per 1,000 items, in ms (the share of the machine its ingest path needs). */
  serverCpuPerK: number;
  /** How much of the window's batches the server itself handled within 2.5, 5, 10 and 25 ms. */
  serverShare: string;
}

// ---------------------------------------------------------------------------------------------------------------
// one window

async function runWindow(stack: Stack, identity: Identity, window: number): Promise<Row> {
  const created = await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT_YAML, runnerId: identity.runnerId });
  if (created.status >= 300)
    throw new Error(`session create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const sessionId = created.body.id;

  const outbox = new TimedOutbox(mkdtempSync(join(os.tmpdir(), 'yoke-bench-outbox-')));
  const source: OutboxSource = { sessionId, outbox, traceparent: undefined };
  const sessions = new Map([[sessionId, source]]);
  const log = pino({ level: 'warn' });
  const connection = new RunnerConnection({ home: identity.home, identity: identity.file, log }, sessions, {
    onReady: () => sender.flush(sessionId),
    onRefused: () => abort('the server refused the runner'),
  });
  // Ready only after start(), once `sender` exists.
  const sender = new OutboxSender(connection, sessions, log, { batches: window, batchItems: BATCH });
  // The session's start input: acknowledged, nothing to run.
  connection.socket.on('session.input', (_raw, ack) => {
    if (typeof ack === 'function') ack({ ok: true, applied: true } as never);
  });
  const sentAt = new Map<number, number>(); // a batch's last seq -> when it went out (its latest send)
  let resends = 0;
  connection.socket.onAnyOutgoing((event: string, payload: { items?: { seq: number }[] }) => {
    if (event !== 'session.items' || !payload.items?.length) return;
    const last = payload.items[payload.items.length - 1].seq;
    if (sentAt.has(last)) resends++;
    sentAt.set(last, performance.now());
  });
  const acks: number[] = [];
  let done: () => void = () => undefined;
  const allAcked = new Promise<void>((r) => (done = r));
  let ackedThrough = 0;
  outbox.onAck = (through) => {
    const now = performance.now();
    for (const [last, at] of sentAt) {
      if (last > through) continue;
      if (last > ackedThrough) acks.push(now - at);
      sentAt.delete(last);
    }
    ackedThrough = Math.max(ackedThrough, through);
    if (through >= ITEMS) done();
  };
  connection.start();
  cleanups.push(() => connection.stop());
  while (!connection.isReady) await new Promise((r) => setTimeout(r, 10));

  const createdAt = new Date().toISOString();
  const bucketsBefore = await ingestBuckets(stack.url);
  const cpuBefore = procCpuSeconds(stack.server.child.pid);
  const started = performance.now();
  for (let seq = 1; seq <= ITEMS;) {
    for (let k = 0; k < PRODUCE && seq <= ITEMS; k++, seq++) {
      outbox.append({ type: 'notice', level: 'info', text: textOf(seq), createdAt } as Omit<ItemDraft, 'seq'>);
      sender.flush(sessionId);
    }
    await tick();
  }
  await allAcked;
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = procCpuSeconds(stack.server.child.pid) - cpuBefore;
  const share = serverShare(bucketsBefore, await ingestBuckets(stack.url));
  connection.stop();
  const sorted = Float64Array.from(acks).sort();
  return {
    window,
    sessionId,
    itemsPerSec: ITEMS / seconds,
    ackP50: percentile(sorted, 50),
    ackP99: percentile(sorted, 99),
    ackMax: sorted[sorted.length - 1] ?? NaN,
    batches: sorted.length,
    seconds,
    resends,
    serverCpuPerK: (serverCpu * 1000 * 1000) / ITEMS,
    serverShare: share,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// what Postgres holds

async function verify(db: Client, sessionId: string): Promise<string[]> {
  const problems: string[] = [];
  const { rows } = await db.query<{ seq: number; text: string }>(
    `SELECT seq, body->>'text' AS text FROM session_items WHERE session_id = $1 ORDER BY seq`,
    [sessionId],
  );
  if (rows.length !== ITEMS) problems.push(`${rows.length} items stored, expected ${ITEMS}`);
  let wrong = 0;
  rows.forEach((r, i) => {
    if (r.seq !== i + 1 || r.text !== textOf(i + 1)) wrong++;
  });
  if (wrong > 0) problems.push(`${wrong} items out of place or altered`);
  const { rows: s } = await db.query<{ last_seq: number }>(`SELECT last_seq FROM sessions WHERE id = $1`, [sessionId]);
  if (s[0]?.last_seq !== ITEMS) problems.push(`sessions.last_seq is ${s[0]?.last_seq}, expected ${ITEMS}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------

interface Identity {
  home: string;
  runnerId: string;
  file: { server: string; runnerId: string; orgId: string; name: string; credential: string };
}

async function main(): Promise<number> {
  // The server's database made here, so this process can read it back at the end.
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const prof = flags['cpu-prof'];
  const stack = await startStack('team', {
    DATABASE_URL: database.url,
    ...(prof ? { NODE_OPTIONS: `-r ${__dirname}/journeys/cpu-profile.js`, YOKE_BENCH_CPU_PROF: prof } : {}),
  });
  cleanups.push(() => stack.stop());
  const db = new Client({ connectionString: database.url });
  await db.connect();
  cleanups.push(() => db.end());

  const token = await stack.enrolmentToken();
  const enrol = await stack.api<EnrolReply>('POST', '/runners/enrol', { token, name: 'bench-runner' });
  if (enrol.status >= 300) throw new Error(`enrol failed: ${enrol.status} ${JSON.stringify(enrol.body)}`);
  const identity: Identity = {
    home: mkdtempSync(join(os.tmpdir(), 'yoke-bench-runner-')),
    runnerId: enrol.body.runnerId,
    file: { server: stack.url, name: 'bench-runner', ...enrol.body },
  };

  console.log(
    `bench:ingest — ${ITEMS} items per window, ${BATCH}-item batches, windows ${WINDOWS.join(' vs ')}, team mode, ` +
      `${os.cpus().length} cores, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const rows: Row[] = [];
  for (const w of WINDOWS) rows.push(await runWindow(stack, identity, w));

  console.log('');
  console.log(
    'window  items/s  seconds  batches  ack p50 ms  ack p99 ms  ack max ms  resends  server cpu ms/1k items  stored',
  );
  let lossy = false;
  for (const r of rows) {
    const problems = await verify(db, r.sessionId);
    lossy ||= problems.length > 0;
    console.log(
      [
        String(r.window).padStart(6),
        fmt(r.itemsPerSec, 0).padStart(8),
        fmt(r.seconds, 2).padStart(8),
        String(r.batches).padStart(8),
        fmt(r.ackP50, 2).padStart(11),
        fmt(r.ackP99, 2).padStart(11),
        fmt(r.ackMax, 2).padStart(11),
        String(r.resends).padStart(8),
        fmt(r.serverCpuPerK, 0).padStart(24),
        problems.length === 0
          ? `  ${ITEMS}/${ITEMS}, seqs 1..${ITEMS}, texts intact`
          : `  LOSS: ${problems.join('; ')}`,
      ].join(''),
    );
  }
  console.log('');
  for (const r of rows) console.log(`window ${r.window}, batches the server handled: ${r.serverShare}`);
  console.log(
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  // Judged conservatively when a window ran more than once: its slowest run.
  const widest = Math.max(...rows.map((r) => r.window));
  const pipelined = rows.filter((r) => r.window === widest).reduce((a, r) => (r.itemsPerSec < a.itemsPerSec ? r : a));
  const fast = pipelined.itemsPerSec >= TARGET_ITEMS_PER_SEC && !lossy;
  console.log(
    `target: >= ${TARGET_ITEMS_PER_SEC} items/s for one session with zero loss (window ${widest}: ` +
      `${fmt(pipelined.itemsPerSec, 0)} items/s) — ${fast ? 'PASS' : 'FAIL'}`,
  );
  const alone = rows.filter((r) => r.window === 1);
  if (alone.length > 0) {
    const p99 = Math.max(...alone.map((r) => r.ackP99));
    console.log(
      `target: a ${BATCH}-item batch acked in <= ${TARGET_ACK_P99_MS} ms at p99 (window 1: ${fmt(p99, 2)} ms) — ` +
        `${p99 <= TARGET_ACK_P99_MS ? 'PASS' : 'FAIL'}`,
    );
  }
  return lossy ? 1 : 0;
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
