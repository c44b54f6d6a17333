/**
 * bench/terminal: how fast the interactive terminal UI (`yoke chat`) shows a streamed answer, and how it answers
 * the keyboard while a long answer streams. Prints figures; never a test. Exit 0 whatever the figures; 1 only when
 * the run itself is wrong (a turn that does not complete, an answer that never shows).
 *
 *   npm run bench:terminal -- [flags]
 *     --runs 20        measured prompts per variant, the two variants interleaved
 *     --keys 40        keystrokes typed while the long answer streams
 *     --smoke          3 runs, 10 keys, no targets: does the bench still work
 *     --cli PATH       the built CLI to run as the terminal UI (default apps/cli/dist/main.js): two builds compared
 *                      in alternating runs
 *     --profile DIR    the terminal UI runs with `--cpu-prof` and leaves (Ctrl-C, Ctrl-D) at the end, so that its
 *                      CPU profile is written to DIR
 *
 * One embedded stack (server, embedded Postgres, a runner with the yoke harness) and the fake model. Two sessions:
 * - the terminal UI: `yoke chat --resume A` in a real pseudo-terminal (util-linux `script`), 120 x 40. Each run
 *   types a prompt and Enter; the time is from Enter to the first characters of the answer in what the UI writes
 *   to the terminal (escape sequences stripped).
 * - the baseline, in the same run: `yoke attach B --json --deltas` running in the same way; each run posts a prompt
 *   through the API; the time is from the post to its first `{"delta": …}` line. Both go through the same server,
 *   runner and harness, so the ratio is what the terminal UI adds: its keyboard, its post and its rendering.
 * Then, while a 5,000-chunk answer streams (a chunk every millisecond: about 500 a second once timers and the
 * harness take their share; the rate reached is printed), single keys are typed every 100 ms; each one's latency is
 * from its write to the moment the prompt line shows it.
 * Targets: time to first character ≤ 1.2x the baseline at p50; typing latency < 50 ms at p99.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Session } from '@yoke/protocol';
import { startFakeModel } from '../test/fixtures/fake-model';
import { tempDir } from '../test/support/processes';
import { startStack } from '../test/support/stack';

const TARGET_RATIO = 1.2;
const TARGET_TYPING_P99_MS = 50;
const AGENT = 'name: bench\nprompt: You answer.\nmodel: claude-sonnet-4-5\ntools: { shell: false, files: false }\n';
const DEFAULT_CLI = join(__dirname, '..', 'apps', 'cli', 'dist', 'main.js');
/** The pseudo-terminal's size. */
const [COLUMNS, ROWS] = [120, 40];

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    keys: { type: 'string', default: '40' },
    smoke: { type: 'boolean', default: false },
    cli: { type: 'string', default: DEFAULT_CLI },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(readFileSync(__filename, 'utf8').split('*/')[0]);
  process.exit(0);
}
function num(name: 'runs' | 'keys', min: number, max: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
  return v;
}
const RUNS = flags.smoke ? 3 : num('runs', 3, 1000);
const KEYS = flags.smoke ? 10 : num('keys', 5, 500);
const CLI = resolve(flags.cli);

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** A program in a pseudo-terminal (util-linux `script`): what it writes, escape sequences stripped, with times. */
class Pty {
  private readonly proc: ChildProcess;
  private text = '';
  readonly exited: Promise<void>;
  private waiters: { test: (text: string, from: number) => boolean; from: number; done: (at: number) => void }[] = [];

  constructor(command: string, env: NodeJS.ProcessEnv) {
    // `script -q -f -e -c CMD /dev/null`: a pty of its own, output flushed as written, the command's exit status.
    // `script` copies the size of its own terminal, and the bench runs it without one: the pty would be 0 x 0, and a
    // program in it draws at 80 columns (the fallback) and at 0 rows (Ink then redraws all printed history on every
    // frame). `stty` gives it the size a terminal has; COLUMNS and LINES say the same to programs that read them.
    this.proc = spawn('script', ['-qfec', `stty cols ${COLUMNS} rows ${ROWS} && exec ${command}`, '/dev/null'], {
      env: { ...env, TERM: 'xterm-256color', COLUMNS: String(COLUMNS), LINES: String(ROWS) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.exited = new Promise((done) => this.proc.once('exit', () => done()));
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      const at = performance.now();
      this.text += chunk.toString('utf8').replace(ANSI, '');
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(this.text, w.from)) return true;
        w.done(at);
        return false;
      });
    });
  }

  /** Where the output is now: waits can look only at what is written after it. */
  get mark(): number {
    return this.text.length;
  }

  /** CPU time (ms) used so far by the program and `script` around it, from /proc (Linux). */
  cpuMs(): number {
    const tick = 1000 / 100; // USER_HZ
    let ms = 0;
    const visit = (pid: number) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ms += (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
        for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) {
          visit(Number(child));
        }
      } catch {
        // gone meanwhile
      }
    };
    visit(this.proc.pid!);
    return ms;
  }

  write(data: string): void {
    this.proc.stdin!.write(data);
  }

  /** Resolves with the time the output after `from` first contains `needle`. */
  waitFor(needle: string, from: number, timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const test = (text: string, start: number) => text.indexOf(needle, start) >= 0;
      if (test(this.text, from)) return resolve(performance.now());
      const timer = setTimeout(
        () => reject(new Error(`"${needle}" did not appear; last output: ${this.text.slice(-400)}`)),
        timeoutMs,
      );
      this.waiters.push({ test, from, done: (at) => (clearTimeout(timer), resolve(at)) });
    });
  }

  close(): void {
    this.proc.kill('SIGKILL');
  }
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const f = (n: number) => n.toFixed(1).padStart(8);

async function main(): Promise<void> {
  const model = await startFakeModel();
  const stack = await startStack('embedded');
  let tui: Pty | undefined;
  let attach: Pty | undefined;
  try {
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    const create = async (title: string) =>
      (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title })).body.id;
    const [a, b] = [await create('terminal UI'), await create('baseline')];
    const env = { ...process.env, YOKE_SERVER: stack.url, YOKE_TOKEN: stack.token, HOME: tempDir('home') };
    const profile = flags.profile ? `--cpu-prof --cpu-prof-dir=${resolve(flags.profile)} ` : '';
    tui = new Pty(`node ${profile}${CLI} chat --resume ${a} --server ${stack.url}`, env);
    attach = new Pty(`node ${CLI} attach ${b} --json --deltas --server ${stack.url}`, env);
    await tui.waitFor('Type a message', 0, 60_000);
    await new Promise((r) => setTimeout(r, 1_000)); // the attach has joined; both are idle

    const idle = async (id: string) => {
      for (;;) {
        const s = (await stack.api<Session>('GET', `/sessions/${id}`)).body;
        if (s.status === 'idle') return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const rules: { match: string; steps: { text: string; chunks?: number; chunkIntervalMs?: number }[] }[] = [];
    const answer = (tag: string) => `Q${tag}Z answer streams here in three parts for the bench.`;
    for (let r = 0; r < RUNS + 1; r++) {
      for (const v of ['T', 'B']) rules.push({ match: `run${v}${r}x`, steps: [{ text: answer(`${v}${r}`) }] });
    }
    const long = 'word '.repeat(5_000);
    rules.push({ match: 'longx', steps: [{ text: long, chunks: 5_000, chunkIntervalMs: 1 }] });
    model.script(rules);

    const tuiMs: number[] = [];
    const baseMs: number[] = [];
    for (let r = 0; r < RUNS + 1; r++) {
      const order = r % 2 === 0 ? ['T', 'B'] : ['B', 'T'];
      for (const v of order) {
        if (v === 'T') {
          const from = tui.mark;
          tui.write(`run${v}${r}x go`);
          await tui.waitFor(`run${v}${r}x go`, from);
          const mark = tui.mark;
          const t0 = performance.now();
          tui.write('\r');
          const t1 = await tui.waitFor(`Q${v}${r}Z`, mark);
          if (r > 0) tuiMs.push(t1 - t0);
          await idle(a);
        } else {
          const mark = attach.mark;
          const t0 = performance.now();
          const sent = await stack.api('POST', `/sessions/${b}/messages`, { text: `run${v}${r}x go` });
          if (sent.status !== 202) throw new Error(`posting a message answered ${sent.status}`);
          const t1 = await attach.waitFor(`Q${v}${r}Z`, mark);
          if (r > 0) baseMs.push(t1 - t0);
          await idle(b);
        }
      }
    }

    // Typing while a long answer streams.
    const streamFrom = tui.mark;
    tui.write('longx go\r');
    await tui.waitFor('word word', streamFrom);
    const streamStart = performance.now();
    const cpuFrom = tui.cpuMs();
    const typing: number[] = [];
    let typed = '';
    for (let k = 0; k < KEYS; k++) {
      const key = String.fromCharCode(97 + (k % 26));
      typed += key;
      const mark = tui.mark;
      const t0 = performance.now();
      tui.write(key);
      typing.push((await tui.waitFor(typed.slice(-Math.min(typed.length, 12)), mark, 10_000)) - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    const typedUntil = performance.now();
    const uiCpu = (tui.cpuMs() - cpuFrom) / ((typedUntil - streamStart) / 1000);
    await idle(a);
    const streamEnd = performance.now();
    const rate = 5_000 / ((streamEnd - streamStart) / 1000);
    if (typedUntil > streamEnd) console.log('note: the answer ended before the last key was typed');
    if (flags.profile) {
      // The profile is written when the UI leaves: Ctrl-C clears what was typed, Ctrl-D on an empty prompt leaves.
      tui.write('\x03');
      await new Promise((r) => setTimeout(r, 300));
      tui.write('\x04');
      await Promise.race([tui.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }

    const load = os.loadavg().map((l) => l.toFixed(2));
    const ratio = pct(tuiMs, 50) / pct(baseMs, 50);
    const p99 = pct(typing, 99);
    console.log(`\nload ${load.join(' ')}; ${os.cpus().length} cores; ${RUNS} runs per variant; ${KEYS} keys`);
    if (CLI !== DEFAULT_CLI) console.log(`terminal UI: ${CLI}`);
    console.log('time to first streamed character (ms)      p50      p95      p99');
    console.log(
      `terminal UI (Enter -> on screen)       ${f(pct(tuiMs, 50))} ${f(pct(tuiMs, 95))} ${f(pct(tuiMs, 99))}`,
    );
    console.log(
      `yoke attach --json --deltas (baseline) ${f(pct(baseMs, 50))} ${f(pct(baseMs, 95))} ${f(pct(baseMs, 99))}`,
    );
    console.log(
      `ratio at p50 ${ratio.toFixed(2)}x (target ≤ ${TARGET_RATIO}x)${flags.smoke ? '' : ratio <= TARGET_RATIO ? '  PASS' : '  FAIL'}`,
    );
    console.log(
      `typing while streaming (${Math.round(rate)} chunks/s): p50 ${pct(typing, 50).toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms (target < ${TARGET_TYPING_P99_MS} ms)` +
        (flags.smoke ? '' : p99 < TARGET_TYPING_P99_MS ? '  PASS' : '  FAIL'),
    );
    console.log(`terminal UI's CPU while typing: ${uiCpu.toFixed(0)} ms a second`);
    console.log(`each key, in the order typed (ms): ${typing.map((t) => t.toFixed(0)).join(' ')}`);
  } finally {
    tui?.close();
    attach?.close();
    await stack.stop();
    await model.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
