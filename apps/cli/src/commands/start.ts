import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import type { Enrolment } from '@yoke/protocol';
import { enrol, loadIdentity, Runner } from '@yoke/runner';
import { ApiClient } from '../api-client';
import { yokeHome } from '../server-discovery';

/** Where the server's entry point is: resolved as a file to run, never imported (the CLI does not link the server). */
export function serverEntry(file: 'main.js' | 'main.worker.js' = 'main.js'): string {
  return join(dirname(require.resolve('@yoke/server/package.json')), 'dist', file);
}

/** Runs the server as a child process and resolves with its URL once it listens. */
export function spawnServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [serverEntry()], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      process.stdout.write(env.YOKE_QUIET === '1' ? '' : `${line}\n`);
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string };
        if (rec.msg === 'yoke server listening' && rec.url) resolve({ child, url: rec.url });
      } catch {
        /* not a log line */
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited (code ${code}) before it listened`)));
  });
}

/**
 * `yoke start`: the embedded default. The server (embedded Postgres, in-process bus) runs as a child on loopback;
 * this process runs the local runner and supervises both.
 */
export async function startCommand(opts: { port?: string; home?: string }): Promise<void> {
  const home = yokeHome(opts.home);
  mkdirSync(home, { recursive: true });
  const { child, url } = await spawnServer({
    ...process.env,
    YOKE_EMBEDDED: '1',
    YOKE_HOME: home,
    HOST: '127.0.0.1',
    PORT: opts.port ?? process.env.PORT ?? '7420',
    YOKE_QUIET: '1',
  });
  writeFileSync(join(home, 'server.json'), JSON.stringify({ url, pid: child.pid }));
  const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const runnerHome = join(home, 'runner');
  let identity = loadIdentity(runnerHome);
  if (!identity || identity.server !== url) {
    const api = new ApiClient(url, undefined);
    const { token } = await api.request<Enrolment>('POST', '/runners/enrolments', { name: 'local' });
    identity = await enrol({ server: url, token, name: 'local', home: runnerHome });
  }
  const runner = new Runner({ home: runnerHome, identity, log, allowAnyWorkspace: true });
  runner.start();
  process.stdout.write(
    `\nYoke is running at ${url}\n  yoke run agent.yaml "your prompt"   to start a session\n  Ctrl-C to stop\n\n`,
  );
  const stop = async () => {
    await runner.stop();
    child.kill('SIGTERM');
    rmSync(join(home, 'server.json'), { force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  child.once('exit', (code) => {
    log.error({ code }, 'the server stopped');
    void runner.stop().then(() => process.exit(code ?? 1));
  });
}

/** `yoke server` / `yoke worker`: team mode in the foreground (DATABASE_URL and REDIS_URL from the environment). */
export async function teamProcessCommand(which: 'server' | 'worker'): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error('team mode needs DATABASE_URL (and REDIS_URL)');
  if (which === 'worker' && !process.env.REDIS_URL) throw new Error('the worker needs REDIS_URL');
  const entry = serverEntry(which === 'server' ? 'main.js' : 'main.worker.js');
  const child = spawn(process.execPath, [entry], { env: { ...process.env, YOKE_EMBEDDED: '0' }, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => child.kill(sig));
  process.exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}
