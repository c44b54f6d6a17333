/**
 * bench/audit-verify: how fast an audit bundle is written and verified, and how much memory each takes, at
 * --events N (default 1,000,000) and at N / 10 (default 100,000) to show how both scale. Prints figures; never a
 * test. Exit 0 whatever the speed; 1 only when the run itself is wrong (a bundle that does not verify).
 *
 *   node -r ./bench/register.js bench/audit-verify.ts [flags]
 *     --events 1000000   events in the large bundle (the small one has a tenth)
 *     --format jsonl     jsonl | csv | ocsf
 *     --dir DIR          where the bundles go (default: a temporary directory, removed after)
 *     --keep             keep the bundles
 *     --workers N        verifier worker threads; default: what verifyBundle picks when compiled (one per CPU, at
 *                        most 4; 0: all on the main thread)
 *
 * Each phase runs in a child process of its own so that its peak RSS (process.resourceUsage().maxRSS) is its own:
 *   write:  the "server" side first computes the org's leaves (a flat 32-byte-per-event buffer, as Postgres would
 *           hold them; not timed), then writeBundle streams N generated events (generation included in the time;
 *           it is also timed alone) with checkpoints at N/4, N/2 and N plus a heartbeat, to a .tar.gz.
 *   verify: verifyBundle on that file, end to end: gunzip, tar, JSON parse, schema, RFC 8785, leaf hashes, the
 *           order and tamper checks, the tree and every checkpoint, the view if any.
 * Target: verify ≥ 100,000 events/s.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditExportFormat } from '@yoke/protocol';
import {
  auditOrigin,
  type BundleEventInput,
  signCheckpoint,
  signingKeyFromSeed,
  verifyBundle,
  writeBundle,
} from '../libs/audit/src/index';
import { FlatLog, fixtureEvent, uuidOf } from '../libs/audit/src/testing/fixtures';

const TARGET_VERIFY_PER_S = 100_000;
const ORG = uuidOf('bench org');
const KEY = signingKeyFromSeed('yoke-audit-bench', createHash('sha256').update('bench key').digest());

/** verifyBundle's own default when compiled (from TypeScript sources it starts none unless told). */
function autoWorkers(): number {
  const cpus = os.availableParallelism();
  return cpus >= 2 ? Math.min(4, cpus) : 0;
}

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    format: { type: 'string', default: 'jsonl' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    workers: { type: 'string', default: String(autoWorkers()) },
    phase: { type: 'string' },
    file: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

interface PhaseResult {
  phase: 'write' | 'verify';
  events: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  /** 1-minute load average when the phase started: other work on the machine. */
  load: number;
  bytes?: number;
  generateSeconds?: number;
  ok?: boolean;
  message?: string;
}

const maxRssMiB = (): number => process.resourceUsage().maxRSS / 1024;
/** Time and CPU time (all threads: other load on the machine does not inflate it) of `f`. */
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = await f();
  const d = process.cpuUsage(cpu);
  return { value, seconds: Number(process.hrtime.bigint() - t) / 1e9, cpuSeconds: (d.user + d.system) / 1e6 };
}

async function writePhase(file: string, events: number, format: AuditExportFormat): Promise<PhaseResult> {
  const load = os.loadavg()[0];
  const log = FlatLog.of(ORG, events);
  const origin = auditOrigin(ORG);
  const sizes = [Math.floor(events / 4), Math.floor(events / 2), events];
  const checkpoints = sizes.map((size, i) =>
    signCheckpoint({ origin, size, root: log.root(size), time: new Date(Date.UTC(2026, 0, 1, 0, i)) }, KEY),
  );
  // A heartbeat: the same size signed again later.
  checkpoints.push(
    signCheckpoint({ origin, size: events, root: log.root(), time: new Date(Date.UTC(2026, 0, 2)) }, KEY),
  );
  const generation = await timed(async () => {
    let sink = 0;
    for (let seq = 1; seq <= events; seq++) sink += fixtureEvent(ORG, seq).event.seq;
    return sink;
  });
  async function* stream(): AsyncGenerator<BundleEventInput> {
    for (let seq = 1; seq <= events; seq++) yield { ...fixtureEvent(ORG, seq), leaf: log.leaf(seq - 1) };
  }
  const {
    value: written,
    seconds,
    cpuSeconds,
  } = await timed(() =>
    writeBundle(file, {
      orgId: ORG,
      origin,
      format,
      filters: {},
      keys: [{ name: KEY.name, vkey: KEY.vkey, createdAt: '2026-01-01T00:00:00.000Z', retiredAt: null }],
      checkpoints,
      events: stream(),
      subtreeHash: log.hasher,
    }),
  );
  return {
    phase: 'write',
    load,
    events,
    seconds,
    cpuSeconds,
    maxRssMiB: maxRssMiB(),
    bytes: written.bytes,
    generateSeconds: generation.seconds,
  };
}

async function verifyPhase(file: string, events: number): Promise<PhaseResult> {
  const load = os.loadavg()[0];
  const {
    value: report,
    seconds,
    cpuSeconds,
  } = await timed(() => verifyBundle(file, { trustedKeys: [KEY.vkey], workers: Number(flags.workers) }));
  return {
    phase: 'verify',
    load,
    events,
    seconds,
    cpuSeconds,
    maxRssMiB: maxRssMiB(),
    ok: report.ok && report.events === events,
    message: report.ok ? undefined : report.message,
  };
}

function runChild(
  phase: 'write' | 'verify',
  file: string,
  events: number,
  format: string,
  workers: string,
): PhaseResult {
  const out = execFileSync(
    process.execPath,
    [
      '-r',
      join(__dirname, 'register.js'),
      __filename,
      '--phase',
      phase,
      '--file',
      file,
      '--events',
      String(events),
      '--format',
      format,
      '--workers',
      workers,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop() as string) as PhaseResult;
}

const perSecond = (r: PhaseResult): number => r.events / r.seconds;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<number> {
  if (flags.help) {
    process.stdout.write(`${__filename}: see the comment at the top of the file\n`);
    return 0;
  }
  const events = Number(flags.events);
  const format = flags.format as AuditExportFormat;
  if (!Number.isInteger(events) || events < 10) throw new Error('--events must be an integer ≥ 10');
  if (!['jsonl', 'csv', 'ocsf'].includes(format)) throw new Error('--format is jsonl, csv or ocsf');

  if (flags.phase) {
    const file = flags.file as string;
    const result = flags.phase === 'write' ? await writePhase(file, events, format) : await verifyPhase(file, events);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }

  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'yoke-bench-audit-'));
  const rows: { events: number; write: PhaseResult; verify: PhaseResult; bytes: number }[] = [];
  let failed = false;
  try {
    for (const n of [Math.floor(events / 10), events]) {
      const file = join(dir, `bundle-${n}.tar.gz`);
      process.stderr.write(`${fmt(n)} events: writing…\n`);
      const write = runChild('write', file, n, format, '0');
      process.stderr.write(`${fmt(n)} events: verifying…\n`);
      const verify = runChild('verify', file, n, format, flags.workers);
      if (!verify.ok) {
        failed = true;
        process.stderr.write(`the bundle of ${fmt(n)} events did not verify: ${verify.message ?? 'wrong count'}\n`);
      }
      rows.push({ events: n, write, verify, bytes: statSync(file).size });
    }
  } finally {
    if (!flags.keep && !flags.dir) rmSync(dir, { recursive: true, force: true });
  }

  const table = [
    [
      'events',
      'bundle MiB',
      'write ev/s',
      'write s',
      'write cpu s',
      'write RSS MiB',
      'verify ev/s',
      'verify s',
      'verify cpu s',
      'verify ev/cpu-s',
      'verify RSS MiB',
      'load w/v',
    ],
    ...rows.map((r) => [
      fmt(r.events),
      (r.bytes / 2 ** 20).toFixed(1),
      fmt(perSecond(r.write)),
      r.write.seconds.toFixed(2),
      r.write.cpuSeconds.toFixed(2),
      r.write.maxRssMiB.toFixed(0),
      fmt(perSecond(r.verify)),
      r.verify.seconds.toFixed(2),
      r.verify.cpuSeconds.toFixed(2),
      fmt(r.verify.events / r.verify.cpuSeconds),
      r.verify.maxRssMiB.toFixed(0),
      `${r.write.load.toFixed(1)}/${r.verify.load.toFixed(1)}`,
    ]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  console.log(
    `audit bundle, format ${format}, verify workers ${flags.workers}, ${os.availableParallelism()} cpus, ` +
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (at the end), node ${process.version}`,
  );
  for (const row of table) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
  console.log(
    `(write ev/s includes generating the events: ${rows.map((r) => `${r.write.generateSeconds?.toFixed(1)} s at ${fmt(r.events)}`).join(', ')} alone)`,
  );
  const [small, large] = rows;
  const ratio = (a: number, b: number): string => `×${(a / b).toFixed(2)}`;
  console.log(
    `${fmt(large.events)} vs ${fmt(small.events)}: verify time ${ratio(large.verify.seconds, small.verify.seconds)}, ` +
      `verify RSS ${ratio(large.verify.maxRssMiB, small.verify.maxRssMiB)}, write RSS ${ratio(large.write.maxRssMiB, small.write.maxRssMiB)}`,
  );
  const pass = perSecond(large.verify) >= TARGET_VERIFY_PER_S;
  console.log(`target: verify ≥ ${fmt(TARGET_VERIFY_PER_S)} events/s (wall clock) — ${pass ? 'PASS' : 'FAIL'}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
