/**
 * bench/journeys, cold start: `yoke start` (the embedded default: server, PGlite, local runner) to a `/health` that
 * answers, on a fresh home once (it makes the database), then `starts` times on that same, now warm, home. Each start
 * has its own HOME and runtime directory and never touches ~/.yoke; each is stopped with SIGINT as a user's Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI_MAIN, freePort, Proc, tempDir } from '../../test/support/processes';
import { waitHealthy } from '../../test/support/stack';
import { type JourneyRow, sorted, pct, verdict } from './report';

const TARGET_MS = 3_000;

async function start(dir: string, home: string, cpuProfDir?: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, YOKE_RUNTIME_DIR: join(dir, 'run'), LOG_LEVEL: 'info' };
  // Both Node processes of the tree (the CLI with its runner, the embedded server) write a profile when they exit.
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  if (cpuProfDir) env.YOKE_SERVER_NODE_FLAGS = profile.join(' ');
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'YOKE_TOKEN', 'YOKE_SERVER', 'YOKE_HOME'])
    delete env[k];
  const t0 = performance.now();
  const proc = new Proc(
    spawn(process.execPath, [...profile, CLI_MAIN, 'start', '--home', home, '--port', String(port)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  try {
    const ms = await waitHealthy(`http://127.0.0.1:${port}`, t0, proc);
    // Stopped once its local runner is up, as a user would see it ready: the next start finds a settled home.
    await proc.waitForLine((l) => l.includes('connected to server'), 120_000);
    return ms;
  } finally {
    await proc.kill('SIGINT');
  }
}

/** With `cpuProfDir`, the warm starts are profiled (`bench/profile-summary.ts` reads the profiles). */
export async function coldStart(
  smoke: boolean,
  starts: number,
  cpuProfDir?: string,
): Promise<{ rows: JourneyRow[]; freshMs: number }> {
  const dir = tempDir('yoke-bench-cold');
  const home = join(dir, 'yoke-home');
  const freshMs = await start(dir, home);
  const warm: number[] = [];
  for (let i = 0; i < starts; i++) warm.push(await start(dir, home, cpuProfDir));
  const times = sorted(warm);
  return {
    freshMs,
    rows: [
      {
        journey: 'cold start (yoke start → /health)',
        mode: 'embedded',
        times,
        reqPerOp: 1,
        sqlPerOp: null,
        target: `p50 ≤ ${TARGET_MS} ms (warm install)`,
        verdict: verdict(smoke, pct(times, 50) <= TARGET_MS),
      },
    ],
  };
}
