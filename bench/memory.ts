/**
 * bench/memory: what `yoke start` holds at idle, every process of its tree, and how long it takes to answer /health,
 * on a fresh home and on a second start of the same home (warm); then the team-mode server's idle RSS (`yoke server`
 * on a fresh database of the local Postgres and its own Redis key prefix). Prints figures; never a test. Exit 0
 * whatever the figures; 1 only when the run itself is wrong (a process does not come up).
 *
 *   npm run bench:memory -- [--settle 10] [--no-team | --no-embedded] [--inside]
 *
 * RSS is read from /proc/<pid>/status (VmRSS, RssAnon, RssFile) and /proc/<pid>/smaps_rollup (Pss, Anonymous) once
 * the tree settled. Each start gets its own HOME, YOKE_HOME and runtime directory: it never touches ~/.yoke. `--inside`
 * also loads a probe (NODE_OPTIONS=--require) into every Node process that writes `process.memoryUsage()` and the
 * V8 heap spaces. Needs `npm run build` and `npm run build:web`; the team run needs Postgres and Redis.
 * Targets: `yoke start` at idle, all processes, ≤ 300 MB RSS; team-mode server at idle ≤ 180 MB; `yoke start` to
 * healthy ≤ 3 s on a warm install.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { BASE_DATABASE_URL, REDIS_URL, uniqueName } from '../test/support/env';
import { CLI_MAIN, freePort, Proc, tempDir } from '../test/support/processes';
import { dropRedisPrefix, waitHealthy } from '../test/support/stack';
import { memoryOf, type ProcMemory, tree } from './proc-memory';

const TARGET_EMBEDDED_MB = 300;
const TARGET_TEAM_MB = 180;
const TARGET_WARM_READY_MS = 3_000;

const { values: flags } = parseArgs({
  options: {
    /** Seconds to wait after /health answers (and the local runner connected) before reading memory. */
    settle: { type: 'string', default: '10' },
    team: { type: 'boolean', default: true },
    'no-team': { type: 'boolean', default: false },
    /** The team-mode server only (no `yoke start`). */
    'no-embedded': { type: 'boolean', default: false },
    inside: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** The probe `--inside` loads into every Node process of a tree: one JSON line per process, on SIGUSR2. */
const PROBE = `'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const out = process.env.YOKE_BENCH_MEMORY_PROBE_OUT;
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = +(s.physical_space_size / 1048576).toFixed(1);
  const h = v8.getHeapStatistics();
  fs.appendFileSync(out, JSON.stringify({ pid: process.pid, heapTotal: m.heapTotal, heapUsed: m.heapUsed,
    external: m.external, arrayBuffers: m.arrayBuffers, peakMalloced: h.peak_malloced_memory, spaces }) + '\\n');
});
`;

type Probe = { env: NodeJS.ProcessEnv; read(pids: number[]): Promise<string[]> };

function makeProbe(dir: string): Probe | null {
  if (!flags.inside) return null;
  const file = join(dir, 'probe.js');
  const out = join(dir, 'probe.jsonl');
  writeFileSync(file, PROBE);
  return {
    env: { NODE_OPTIONS: `--require ${file}`, YOKE_BENCH_MEMORY_PROBE_OUT: out },
    async read(pids) {
      writeFileSync(out, '');
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGUSR2');
        } catch {
          // gone
        }
      }
      await sleep(500);
      const m = (n: number) => `${(n / 1048576).toFixed(0)}`;
      const lines = new Map<number, string>(); // one line per pid (the last), whatever signals a process got
      for (const line of readFileSync(out, 'utf8').split('\n').filter(Boolean)) {
        lines.set((JSON.parse(line) as { pid: number }).pid, line);
      }
      return [...lines.values()].map((line) => {
        const p = JSON.parse(line) as {
          pid: number;
          heapTotal: number;
          heapUsed: number;
          external: number;
          arrayBuffers: number;
          peakMalloced: number;
          spaces: Record<string, number>;
        };
        const spaces = Object.entries(p.spaces)
          .filter(([, v]) => v >= 1)
          .map(([k, v]) => `${k.replace('_space', '')} ${v}`)
          .join(', ');
        return (
          `  pid ${p.pid}: V8 heap ${m(p.heapTotal)} MB (used ${m(p.heapUsed)}; ${spaces}), external ${m(p.external)} MB ` +
          `(array buffers ${m(p.arrayBuffers)}), V8 peak malloced ${m(p.peakMalloced)} MB`
        );
      });
    },
  };
}

/** A clean environment: its own HOME and runtime dir, no team-mode or client variables from the caller. */
function cleanEnv(dir: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, YOKE_RUNTIME_DIR: join(dir, 'run'), ...extra };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'YOKE_TOKEN', 'YOKE_SERVER', 'YOKE_HOME']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

type Run = { label: string; readyMs: number; cpuS: number; procs: ProcMemory[]; inside: string[] };

async function measureTree(label: string, proc: Proc, readyMs: number, probe: Probe | null): Promise<Run> {
  await sleep(Number(flags.settle) * 1000);
  const pids = tree(proc.child.pid!);
  const procs = pids.map(memoryOf);
  const cpuS = pids.reduce((s, pid) => s + cpuTicks(pid), 0) / 100;
  return { label, readyMs, cpuS, procs, inside: (await probe?.read(pids)) ?? [] };
}

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 per second on Linux)
  } catch {
    return 0;
  }
}

async function startEmbedded(label: string, dir: string, home: string, probe: Probe | null): Promise<Run> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = new Proc(
    spawn(process.execPath, [CLI_MAIN, 'start', '--home', home, '--port', String(port)], {
      env: cleanEnv(dir, { LOG_LEVEL: 'info', ...probe?.env }), // the runner says `connected to server` at info
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  try {
    const readyMs = await waitHealthy(url, t0, proc);
    await proc.waitForLine((l) => l.includes('connected to server'), 120_000);
    return await measureTree(label, proc, readyMs, probe);
  } finally {
    await proc.kill('SIGINT');
  }
}

async function startTeam(dir: string, probe: Probe | null): Promise<Run> {
  const name = uniqueName('yoke_bench_memory');
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(BASE_DATABASE_URL);
  dbUrl.pathname = `/${name}`;
  const prefix = uniqueName('yoke_bench_memory');
  const port = await freePort();
  const t0 = performance.now();
  const proc = new Proc(
    spawn(process.execPath, [CLI_MAIN, 'server'], {
      env: cleanEnv(dir, {
        DATABASE_URL: dbUrl.toString(),
        REDIS_URL,
        REDIS_PREFIX: prefix,
        YOKE_HOME: join(dir, 'home'),
        YOKE_BOOTSTRAP_TOKEN: `ykt_${uniqueName('bench_memory_token')}`,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        ...probe?.env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  try {
    const readyMs = await waitHealthy(`http://127.0.0.1:${port}`, t0, proc);
    return await measureTree('team server (fresh database)', proc, readyMs, probe);
  } finally {
    await proc.kill('SIGTERM');
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await dropRedisPrefix(prefix);
  }
}

const sum = (procs: ProcMemory[], k: keyof Omit<ProcMemory, 'role'>) => procs.reduce((s, p) => s + p[k], 0);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

function printRun(run: Run): void {
  console.log(
    `\n${run.label}: healthy after ${(run.readyMs / 1000).toFixed(2)} s; ${run.cpuS.toFixed(1)} CPU s used by the tree`,
  );
  console.log('  pid      process            RSS MB   anon MB   file MB   PSS MB   peak RSS MB  threads');
  for (const p of run.procs) {
    console.log(
      `  ${String(p.pid).padEnd(8)} ${p.role.padEnd(18)} ${String(p.rssMb).padStart(6)} ${String(p.anonMb).padStart(9)}` +
        ` ${String(p.fileMb).padStart(9)} ${String(p.pssMb).padStart(8)} ${String(p.hwmMb).padStart(12)} ${String(p.threads).padStart(8)}`,
    );
  }
  if (run.procs.length > 1) {
    console.log(
      `  ${'all'.padEnd(27)} ${String(sum(run.procs, 'rssMb')).padStart(6)} ${String(sum(run.procs, 'anonMb')).padStart(9)}` +
        ` ${String(sum(run.procs, 'fileMb')).padStart(9)} ${String(sum(run.procs, 'pssMb')).padStart(8)}`,
    );
  }
  for (const line of run.inside) console.log(line);
}

async function main(): Promise<void> {
  if (flags.help) {
    console.log('npm run bench:memory -- [--settle 10] [--no-team | --no-embedded] [--inside]');
    return;
  }
  console.log(
    `load at start: ${load()} · ${os.cpus().length} cores · ${Math.round(os.totalmem() / 1048576)} MB · Node ${process.version}`,
  );
  const dir = tempDir('yoke-bench-memory');
  const probe = makeProbe(dir);
  const home = join(dir, 'home');

  const rows: [string, string, string, string][] = [];
  if (!flags['no-embedded']) {
    const fresh = await startEmbedded('yoke start, fresh home', join(dir, 'fresh'), home, probe);
    printRun(fresh);
    const warm = await startEmbedded('yoke start, same home again (warm)', join(dir, 'warm'), home, probe);
    printRun(warm);
    rows.push(
      [
        'yoke start idle, all processes, fresh home',
        `${sum(fresh.procs, 'rssMb')} MB`,
        `≤ ${TARGET_EMBEDDED_MB} MB`,
        verdict(sum(fresh.procs, 'rssMb') <= TARGET_EMBEDDED_MB),
      ],
      [
        'yoke start idle, all processes, warm home',
        `${sum(warm.procs, 'rssMb')} MB`,
        `≤ ${TARGET_EMBEDDED_MB} MB`,
        verdict(sum(warm.procs, 'rssMb') <= TARGET_EMBEDDED_MB),
      ],
      // RSS counts the Node binary's pages once per process; PSS shares them out (information, no target).
      ['yoke start idle, all processes, warm, PSS', `${sum(warm.procs, 'pssMb')} MB`, '(none)', '-'],
      ['yoke start to healthy, fresh home', `${(fresh.readyMs / 1000).toFixed(2)} s`, '(none)', '-'],
      [
        'yoke start to healthy, warm home',
        `${(warm.readyMs / 1000).toFixed(2)} s`,
        `≤ ${TARGET_WARM_READY_MS / 1000} s`,
        verdict(warm.readyMs <= TARGET_WARM_READY_MS),
      ],
    );
  }
  const team = flags.team && !flags['no-team'] ? await startTeam(join(dir, 'team'), probe) : null;
  if (team) printRun(team);

  const teamServer = team?.procs.find((p) => p.role === 'server');
  if (teamServer) {
    rows.push([
      'team-mode server idle',
      `${teamServer.rssMb} MB`,
      `≤ ${TARGET_TEAM_MB} MB`,
      verdict(teamServer.rssMb <= TARGET_TEAM_MB),
    ]);
  }
  console.log(`\nload at end: ${load()}\n`);
  console.log(`${'figure'.padEnd(46)} ${'measured'.padStart(10)}  ${'target'.padEnd(10)} verdict`);
  for (const [what, value, target, v] of rows)
    console.log(`${what.padEnd(46)} ${value.padStart(10)}  ${target.padEnd(10)} ${v}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
