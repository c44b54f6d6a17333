import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './processes';

/** Whether tmux can be run here (suites that need a real terminal skip without it). */
export const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;

/**
 * A real terminal for end-to-end tests of interactive programs: a tmux server on a socket of its own (`tmux -L`),
 * one pane of a fixed size running a plain shell. Tests type and press keys into it and read the screen as tmux
 * draws it (`capture-pane`), waiting on what appears, never on fixed sleeps.
 */
export class TmuxTerminal {
  private constructor(
    readonly socket: string,
    readonly width: number,
    readonly height: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts a shell (no rc files, prompt `$ `) in `cwd`, in a `width` x `height` pane, with `env` as its environment. */
  static start(opts: { cwd: string; env: NodeJS.ProcessEnv; width?: number; height?: number }): TmuxTerminal {
    const t = new TmuxTerminal(
      `yoke-e2e-${process.pid}-${randomBytes(4).toString('hex')}`,
      opts.width ?? 120,
      opts.height ?? 40,
      { ...opts.env, PS1: '$ ', TERM: 'xterm-256color' },
    );
    // The shell's own rc files are not under test (the run's HOME is empty anyway).
    const rc = join(tempDir('yoke-tmux'), 'rc');
    writeFileSync(rc, "PS1='$ '\n");
    t.tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      String(t.width),
      '-y',
      String(t.height),
      '-c',
      opts.cwd,
      `bash --noprofile --rcfile ${rc} -i`,
    );
    t.tmux('set-option', '-g', 'status', 'off');
    return t;
  }

  /** The screen now: one string per row, trailing blanks trimmed. */
  lines(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'main').stdout.replace(/\n$/, '').split('\n');
  }

  screen(): string {
    return this.lines().join('\n');
  }

  /** Types `text` literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** Presses keys by tmux name: `Enter`, `C-c`, `Up`, `M-Enter`... */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Pastes `text` as a terminal paste (bracketed, when the program asked for it). */
  paste(text: string): void {
    const file = join(tempDir('yoke-tmux-paste'), 'buffer');
    writeFileSync(file, text);
    this.tmux('load-buffer', '-b', 'e2e', file);
    this.tmux('paste-buffer', '-p', '-d', '-b', 'e2e', '-t', 'main');
  }

  /** Waits until the screen satisfies `test` (text it contains, or a predicate); returns that screen. */
  async waitFor(test: string | RegExp | ((screen: string) => boolean), timeoutMs = 30_000): Promise<string> {
    const ok =
      typeof test === 'string'
        ? (s: string) => s.includes(test)
        : test instanceof RegExp
          ? (s: string) => test.test(s)
          : test;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (ok(s)) return s;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${String(test)} on the terminal; the screen:\n${s}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    this.tmux('kill-server');
    // The server is gone; its socket file stays behind unless removed.
    const dir = join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    rmSync(join(dir, this.socket), { force: true });
  }

  private tmux(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', env: this.env });
    if (r.status !== 0 && args[0] !== 'kill-server') {
      throw new Error(`tmux ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    return r;
  }
}
