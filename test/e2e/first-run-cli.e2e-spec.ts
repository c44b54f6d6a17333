import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Item } from '@yoke/protocol';
import { expectEventually } from '../support/env';
import { CLI_MAIN, freePort, Proc, runCli, tempDir } from '../support/processes';

/**
 * The first-run pieces of the CLI, run as a user runs them: `yoke keys` (in a real terminal, and from a pipe),
 * `yoke doctor`, and what `yoke start` says at boot, on a machine without bubblewrap (a PATH without `bwrap`).
 */

/** A PATH with every program of this one except bwrap: a machine where bubblewrap is not installed. */
function pathWithoutBwrap(): string {
  const dir = tempDir('yoke-no-bwrap-path');
  const seen = new Set<string>(['bwrap']);
  for (const from of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return dir;
}

/** The environment of a user with no model key anywhere and no Yoke server of theirs. */
function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, YOKE_RUNTIME_DIR: tempDir('yoke-run'), ...extra };
  for (const k of [
    'DATABASE_URL',
    'REDIS_URL',
    'YOKE_TOKEN',
    'YOKE_SERVER',
    'YOKE_HOME',
    'YOKE_SANDBOX',
    'ANTHROPIC_API_KEY',
    'OPENAI_API_KEY',
    'ANTHROPIC_BASE_URL',
    'OPENAI_BASE_URL',
  ]) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

async function runCliWithInput(
  args: string[],
  env: NodeJS.ProcessEnv,
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, stdout, stderr };
}

interface DoctorReport {
  ok: boolean;
  checks: { name: string; ok: boolean; needed: boolean; detail: string; fix?: string }[];
}

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const onLinux = process.platform === 'linux' ? it : it.skip;

describe('yoke keys', () => {
  (hasTmux ? it : it.skip)('asks for a key in a terminal without echoing it, and stores it 0600', async () => {
    const home = join(tempDir('yoke-keys-tty'), 'home');
    const secret = 'sk-ant-typed-in-a-terminal-0042';
    const socket = `yoke-keys-${process.pid}`;
    const tmux = (...args: string[]) =>
      spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: userEnv({}) });
    const command = `${process.execPath} ${CLI_MAIN} keys set anthropic --home ${home}; sleep 600`;
    expect(tmux('new-session', '-d', '-s', 'keys', '-x', '120', '-y', '20', command).status).toBe(0);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', 'keys').stdout;
      await expectEventually(() => screen().includes('Anthropic API key (ANTHROPIC_API_KEY; input hidden'));
      tmux('send-keys', '-t', 'keys', '-l', secret);
      tmux('send-keys', '-t', 'keys', 'Enter');
      const after = await expectEventually(() => (screen().includes('stored the Anthropic key') ? screen() : null));
      expect(after).not.toContain(secret);
      expect(after).not.toContain(secret.slice(-6));
      const file = join(home, 'keys.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ anthropic: secret });
    } finally {
      tmux('kill-server');
    }
  });

  it('reads the key from a pipe, lists where keys are set but never their values, and unsets them', async () => {
    const home = tempDir('yoke-keys-pipe');
    const env = userEnv({ OPENAI_API_KEY: 'sk-openai-in-the-shell' });
    const set = await runCliWithInput(['keys', 'set', 'anthropic', '--home', home], env, 'sk-ant-from-a-pipe\n');
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toContain(`stored the Anthropic key in ${join(home, 'keys.json')} (mode 0600)`);

    const list = await runCli(['keys', 'list', '--home', home], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^anthropic +ANTHROPIC_API_KEY +set in the keys file$/m);
    expect(list.stdout).toMatch(/^openai +OPENAI_API_KEY +set in this shell's environment$/m);
    const json = await runCli(['keys', 'list', '--home', home, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      keys: [
        { provider: 'anthropic', setIn: ['keys-file'] },
        { provider: 'openai', setIn: ['shell-environment'] },
        { provider: 'gemini', setIn: [] },
      ],
    });
    for (const out of [set.stdout, list.stdout, json.stdout]) {
      expect(out).not.toContain('sk-ant-from-a-pipe');
      expect(out).not.toContain('sk-openai-in-the-shell');
    }

    const unset = await runCli(['keys', 'unset', 'anthropic', '--home', home], env);
    expect(unset.stdout).toContain('removed the Anthropic key');
    expect((await runCli(['keys', 'list', '--home', home], env)).stdout).toMatch(
      /^anthropic +ANTHROPIC_API_KEY +not set$/m,
    );
    const unknown = await runCli(['keys', 'set', 'mistral', '--home', home], env);
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'yoke: unknown provider "mistral": use one of anthropic, openai, gemini\n',
    ]);
  });
});

describe('yoke doctor and yoke start on a machine without bubblewrap or keys', () => {
  let noBwrap: string;
  beforeAll(() => {
    noBwrap = pathWithoutBwrap();
  });

  onLinux('doctor lists each missing piece with its fix and exits 1', async () => {
    const home = tempDir('yoke-doctor-home');
    const env = userEnv({ PATH: noBwrap });
    const port = await freePort();
    const text = await runCli(['doctor', '--home', home, '--server', `http://127.0.0.1:${port}`], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^✗ server +http:\/\/127\.0\.0\.1:\d+ does not answer/m);
    expect(text.stdout).toContain(`fix: yoke start --home ${home}`);
    expect(text.stdout).toMatch(/^✗ anthropic +ANTHROPIC_API_KEY is not set \(needed for Claude models\)$/m);
    expect(text.stdout).toContain(`fix: yoke keys set anthropic --home ${home}`);
    expect(text.stdout).toMatch(/^✗ sandbox +bwrap not found on PATH$/m);
    expect(text.stdout).toMatch(/fix: (sudo )?(apt|dnf|pacman|apk|zypper) .*bubblewrap|fix: Install bubblewrap/);
    expect(text.stdout).toMatch(/^✓ disk +\d+\.\d GB free in /m);

    const json = await runCli(['doctor', '--json', '--home', home, '--server', `http://127.0.0.1:${port}`], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'sandbox')).toMatchObject({ ok: false, needed: true });
  });

  onLinux(
    'start warns with the fixing commands and still starts; a turn without a key says the command that fixes it',
    async () => {
      const home = tempDir('yoke-start-home');
      const env = userEnv({ PATH: noBwrap });
      const port = await freePort();
      const start = new Proc(
        spawn(process.execPath, [CLI_MAIN, 'start', '--port', String(port), '--home', home], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      try {
        await start.waitForLine((l) => l.includes('Yoke is running at'), 120_000);
        await start.waitForLine((l) => l.includes('`yoke doctor` checks everything a turn needs'));
        const said = start.lines.join('\n');
        expect(said).toContain('yoke: warning: harness sessions cannot run sandboxed here: bwrap not found on PATH');
        expect(said).toMatch(/ {2}fix: .*bubblewrap/);
        expect(said).toContain(
          'yoke: warning: no model key: none of ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY reaches the local runner',
        );
        expect(said).toContain(`  fix: yoke keys set anthropic --home ${home} (or openai, gemini); no restart needed`);

        // doctor sees the running server and its runner, and what is still missing.
        const report = await expectEventually(async () => {
          const out = await runCli(['doctor', '--json', '--home', home], env);
          const r = JSON.parse(out.stdout) as DoctorReport;
          return r.checks.find((c) => c.name === 'runner')?.ok ? { ...r, code: out.code } : null;
        }, 60_000);
        expect(report.code).toBe(1);
        const check = (name: string) => report.checks.find((c) => c.name === name);
        expect(check('server')).toMatchObject({ ok: true, detail: expect.stringContaining('(yoke start)') });
        expect(check('sandbox')).toMatchObject({ ok: false, needed: true });
        expect(check('anthropic')).toMatchObject({ ok: false, fix: `yoke keys set anthropic --home ${home}` });

        // Let turns run unsandboxed here (an org admin's explicit choice), to reach the key.
        const cliEnv = { ...env, YOKE_HOME: home };
        const policy = join(tempDir('yoke-policy'), 'org.yaml');
        writeFileSync(policy, '- { type: sandbox, allow_none: true }\n');
        expect((await runCli(['policy', 'apply', policy], cliEnv)).code).toBe(0);
        const ws = tempDir('yoke-ws');
        mkdirSync(ws, { recursive: true });
        writeFileSync(join(ws, 'agent.yaml'), 'name: a\nprompt: Help.\nmodel: claude-sonnet-4-5\n');
        const run = await runCli(['run', join(ws, 'agent.yaml'), 'hello', '--json', '--workspace', ws], cliEnv);
        expect(run.code).toBe(1);
        const items = run.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Item);
        expect(items.at(-1)).toMatchObject({
          type: 'turn_failed',
          error:
            'ANTHROPIC_API_KEY is not set on this runner: ' +
            `run \`yoke keys set anthropic --home ${home}\` (no restart needed), ` +
            'or export ANTHROPIC_API_KEY where `yoke start` runs',
        });

        // The command it names works while Yoke runs; doctor then finds the key.
        const set = await runCliWithInput(['keys', 'set', 'anthropic', '--home', home], env, 'sk-ant-stored\n');
        expect(set.stdout).toContain('the running `yoke start` uses it from its next session on; no restart needed');
        const after = JSON.parse((await runCli(['doctor', '--json', '--home', home], env)).stdout) as DoctorReport;
        expect(after.checks.find((c) => c.name === 'anthropic')).toMatchObject({
          ok: true,
          detail: `ANTHROPIC_API_KEY stored in ${join(home, 'keys.json')}`,
        });
      } finally {
        await start.kill('SIGINT');
      }
    },
  );
});
