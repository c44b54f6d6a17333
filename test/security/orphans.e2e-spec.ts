import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../apps/cli/src/local-servers';
import { expectEventually } from '../support/env';
import { CLI_MAIN, freePort, Proc, runCli, tempDir } from '../support/processes';

/**
 * `yoke start` leaves nothing running behind it, however it ends (SIGKILL included), and one home has one server:
 * a second `yoke start` on a home in use is refused, naming who holds it.
 */
describe('yoke start: no orphans, one server per home', () => {
  const runtimeDir = tempDir('yoke-runtime'); // the index of local servers: never the real user's
  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, YOKE_RUNTIME_DIR: runtimeDir };
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'YOKE_TOKEN', 'YOKE_SERVER', 'YOKE_HOME', 'PORT']) delete e[k];
    return e;
  };
  const started: Proc[] = [];
  const start = (home: string, port: number): Proc => {
    const proc = new Proc(
      spawn(process.execPath, [CLI_MAIN, 'start', '--port', String(port), '--home', home], {
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    started.push(proc);
    return proc;
  };
  // A server orphaned by the SIGKILL exits as a zombie under a parent that may never reap it: that is not running.
  const isRunning = isAlive;
  const serverPid = (home: string): number =>
    (JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number }).pid;

  afterAll(async () => {
    for (const p of started) await p.kill('SIGINT');
  });

  it('a SIGKILLed `yoke start` takes its server down, and the next start on that home and port succeeds', async () => {
    const home = tempDir('yoke-home');
    const port = await freePort();
    const first = start(home, port);
    await first.waitForLine((l) => l.includes('Yoke is running at'), 90_000);
    const server = serverPid(home);
    expect(isRunning(server)).toBe(true);

    await first.kill('SIGKILL');
    await expectEventually(() => !isRunning(server), 10_000);

    const second = start(home, port);
    const line = await second.waitForLine((l) => l.includes('Yoke is running at'), 90_000);
    expect(line).toContain(`http://127.0.0.1:${port}/`);
    expect(second.lines.join('\n')).toContain('taking over the stale lock');
    const next = serverPid(home);
    expect(next).not.toBe(server);
    // A clean stop takes the server down too, and leaves the home free.
    await second.kill('SIGINT');
    expect(isRunning(next)).toBe(false);
    expect(existsSync(join(home, 'yoke.lock'))).toBe(false);
  });

  it('refuses a second `yoke start` on a home in use, naming its pid and URL, and leaves the first running', async () => {
    const home = tempDir('yoke-home');
    const port = await freePort();
    const first = start(home, port);
    await first.waitForLine((l) => l.includes('Yoke is running at'), 90_000);

    const out = await runCli(['start', '--port', String(await freePort()), '--home', home], env(), 60_000);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      `Yoke is already running for ${home} at http://127.0.0.1:${port} (pid ${first.child.pid}); ` +
        'stop it first or use --home',
    );
    expect(out.stdout).not.toContain('Yoke is running at');
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(home, 'yoke.lock'), 'utf8'))).toMatchObject({ pid: first.child.pid });
  });
});
