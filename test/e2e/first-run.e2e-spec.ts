import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { freePort, Proc, ROOT, tempDir } from '../support/processes';

/**
 * A new user's first run: a clean clone of this repository's HEAD, then README.md's set-up commands exactly as the
 * clone's README writes them — `npm ci && npm start` in one terminal, the key and `yoke run` in another — against the
 * fake model, until a turn completes.
 *
 * What the test provides is what a user's machine provides: the npm cache (no network here), an empty HOME, a free
 * port (PORT, which `yoke start` reads), and the model endpoint (ANTHROPIC_BASE_URL, exported before `npm start` as
 * the README says). Where bubblewrap cannot run, the runner gets YOKE_SANDBOX=none: the README lists bubblewrap as a
 * prerequisite, and this machine lacking it is not what is under test.
 *
 * Takes ~5-10 minutes on 2 cores: `npm ci` from the cache (~1.5 min), `npm run build` and the web build.
 * YOKE_FIRST_RUN_WORKTREE=1 clones HEAD and then lays this checkout's uncommitted changes over it, to try them
 * before they are committed.
 */

const SETUP_HEADING = '## Set up';

/** The ```sh blocks of the README's set-up section, as written. */
function setupBlocks(readme: string): string[] {
  const start = readme.indexOf(`${SETUP_HEADING}\n`);
  if (start < 0) throw new Error(`README.md has no "${SETUP_HEADING}" section`);
  const rest = readme.slice(start + SETUP_HEADING.length);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1].trim());
}

function blockWith(blocks: string[], needle: RegExp): string {
  const found = blocks.filter((b) => needle.test(b));
  if (found.length !== 1) throw new Error(`expected one set-up block matching ${needle}, found ${found.length}`);
  return found[0];
}

/** A clean clone of HEAD (with this checkout's uncommitted changes laid over it when asked). */
function cloneHead(dir: string): void {
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir]);
  if (process.env.YOKE_FIRST_RUN_WORKTREE !== '1') return;
  const diff = execFileSync('git', ['diff', 'HEAD', '--binary'], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
  if (diff.length) execFileSync('git', ['apply', '--whitespace=nowarn'], { cwd: dir, input: diff });
  const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  if (untracked.length) {
    const tar = spawnSync('tar', ['-C', ROOT, '-cf', '-', '--null', '-T', '-'], {
      input: untracked.join('\0'),
      maxBuffer: 1024 * 1024 * 1024,
    });
    execFileSync('tar', ['-C', dir, '-xf', '-'], { input: tar.stdout });
  }
}

/** The user's npm cache, whatever HOME the tests run with (`npm ci` here works offline from it). */
function npmCache(): string {
  return process.env.npm_config_cache ?? join(userInfo().homedir, '.npm');
}

function canRunBwrap(): boolean {
  return spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-user', 'true']).status === 0;
}

/** Runs a README block in its own shell, as a user pasting it into a terminal would. */
function shell(block: string, cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('sh', ['-c', block], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
}

describe('first run from a fresh clone, with the README commands as written', () => {
  const timings: Record<string, number> = {};
  let model: FakeModel;
  let clone: string;
  let yoke: Proc | null = null;
  let env: NodeJS.ProcessEnv;
  const sandboxed = canRunBwrap();

  beforeAll(async () => {
    model = await startFakeModel();
    clone = join(tempDir('yoke-first-run'), 'yoke');
    const t = Date.now();
    cloneHead(clone);
    timings.clone = Date.now() - t;
    env = {
      // The user's PATH, without the node_modules/.bin of whatever runs this test (npx, npm test).
      PATH: (process.env.PATH ?? '')
        .split(delimiter)
        .filter((d) => !d.includes(`node_modules${sep}.bin`))
        .join(delimiter),
      LANG: process.env.LANG ?? 'C.UTF-8',
      HOME: tempDir('yoke-first-run-home'),
      TMPDIR: process.env.TMPDIR,
      PORT: String(await freePort()),
      YOKE_RUNTIME_DIR: tempDir('yoke-first-run-rt'),
      ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
      npm_config_cache: npmCache(),
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      ...(sandboxed ? {} : { YOKE_SANDBOX: 'none' }),
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  }, 120_000);

  afterAll(async () => {
    if (yoke?.child.pid) {
      try {
        process.kill(-yoke.child.pid, 'SIGINT'); // npm, and the `yoke start` under it
      } catch {
        // already gone
      }
      await yoke.exited;
    }
    await model?.close();
    if (clone) rmSync(join(clone, '..'), { recursive: true, force: true });
    process.stderr.write(
      `first run: ${Object.entries(timings)
        .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
        .join(', ')}\n`,
    );
  }, 120_000);

  it('the README runs the tests with the command .ci/run runs', () => {
    const blocks = setupBlocks(readFileSync(join(clone, 'README.md'), 'utf8'));
    const test = blockWith(blocks, /\bnpm test\b/);
    const ci = readFileSync(join(clone, '.ci/run'), 'utf8').trim().split('\n').at(-1);
    expect(ci).toBe(test);
  });

  it(
    'gets a completed turn from `npm ci && npm start` and the commands of the second terminal',
    async () => {
      const blocks = setupBlocks(readFileSync(join(clone, 'README.md'), 'utf8'));
      const startBlock = blockWith(blocks, /\bnpm start\b/);
      const useBlock = blockWith(blocks, /\byoke run\b/);

      let t = Date.now();
      yoke = new Proc(shell(startBlock, clone, env));
      yoke.child.stdin?.end();
      const banner = await yoke.waitForLine((l) => l.includes('Yoke is running at'), 20 * 60_000);
      timings['npm ci && npm start'] = Date.now() - t;
      expect(banner).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${env.PORT}/\\?token=`));
      expect(existsSync(join(clone, 'node_modules/.bin/yoke'))).toBe(true);

      model.script([
        {
          match: 'add a --verbose flag to the CLI',
          steps: [
            { toolCalls: [{ name: 'shell', input: { command: 'echo first-run-shell-ok' } }] },
            { text: 'Added the --verbose flag.' },
          ],
        },
      ]);
      // The second terminal: the key typed at `yoke keys set`'s prompt (here, its stdin), then `yoke run`.
      t = Date.now();
      const second = shell(useBlock, clone, env);
      second.stdin?.end('sk-ant-first-run\n');
      let out = '';
      second.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      second.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => second.once('exit', r));
      timings['keys set + yoke run'] = Date.now() - t;
      expect({ code, out }).toMatchObject({ code: 0, out: expect.stringContaining('Added the --verbose flag.') });
      expect(out).toContain('first-run-shell-ok');
      // The shell inside the sandbox starts quietly: no profile noise before a command's output.
      expect(out).not.toMatch(/bash_profile|Permission denied/);

      // The key stored with `yoke keys set` reached the model through the runner of `npm start`.
      const calls = model.requests.filter((r) => r.api === 'anthropic');
      expect(calls.length).toBeGreaterThanOrEqual(2);
      for (const call of calls) expect(call.headers['x-api-key']).toBe('sk-ant-first-run');
      expect(JSON.stringify(calls.at(-1)?.body)).not.toMatch(/bash_profile|Permission denied/);

      // And `yoke doctor`, which the README points to, finds everything a turn needs.
      t = Date.now();
      const doctor = spawnSync('npx', ['yoke', 'doctor'], { cwd: clone, env, encoding: 'utf8' });
      timings['yoke doctor'] = Date.now() - t;
      expect({ status: doctor.status, stdout: doctor.stdout }).toMatchObject({
        status: 0,
        stdout: expect.stringContaining('Ready: a turn can run.'),
      });
    },
    30 * 60_000,
  );
});
