/**
 * bench/web: how the web UI holds a long session, in Chromium against the embedded server. Prints figures; never a
 * test. Exit 0 whatever the figures; 1 only when the run itself is wrong (a row that never shows).
 *
 *   npm run build && npm run build:web && npm run bench:web -- [flags]
 *     --items 5000     items in the session (10 per turn: a prompt, answers in markdown with code, a shell action,
 *                      usage and policy decisions)
 *     --runs 5         page loads measured (after one warm-up load)
 *     --live 20        live items measured, one at a time
 *     --smoke          500 items, 2 loads, 5 live items, no targets: does the bench still work
 *
 * What it measures, for the session page:
 * - first contentful paint (the browser's own `first-contentful-paint` entry) and the time until the session's last
 *   item is on screen, from navigation start;
 * - time from the last item to its display: a raw runner socket reports one more item while the page is open and
 *   pinned to the bottom; from the report to the row in the page (a MutationObserver in the page, both clocks in
 *   epoch milliseconds on this machine);
 * - scroll frame time: from the bottom to the top of the session, 600 px per animation frame; the time between frames;
 * - JS shipped per page: the gzipped size of the scripts each page of the static export loads, against the same
 *   pages of the build before the web's rework (figures measured once on this machine, constants below).
 * Targets: first contentful paint ≤ 1 s; no scroll frame over 50 ms; JS per page ≤ 1.3x the earlier build.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Socket } from 'socket.io-client';
import type { EnrolReply, ItemsAck, RunnerView, Session } from '@yoke/protocol';
import { launchBrowser } from '../test/support/browser';
import { tempDir } from '../test/support/processes';
import { startStack } from '../test/support/stack';

const TARGET_FCP_MS = 1000;
const TARGET_FRAME_MS = 50;
const TARGET_JS_RATIO = 1.3;
/**
 * Gzipped JS (kB) per page of the static export at 9443c25, the last commit before the web's rework, built on this
 * machine with the same Next.js. Only pages that existed then.
 */
const JS_BEFORE_KB: Record<string, number> = {
  '/': 239.3,
  session: 251.3,
  approvals: 238.5,
  admin: 244.8,
  audit: 250.0,
  usage: 354.5,
  join: 238.4,
};

const AGENT = 'name: bench\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const OUT = join(__dirname, '..', 'apps', 'web', 'out');

const { values: flags } = parseArgs({
  options: {
    items: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '5' },
    live: { type: 'string', default: '20' },
    smoke: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(readFileSync(__filename, 'utf8').split('*/')[0]);
  process.exit(0);
}
function num(name: 'items' | 'runs' | 'live', min: number, max: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
  return v;
}
const ITEMS = flags.smoke ? 500 : num('items', 10, 100_000);
const RUNS = flags.smoke ? 2 : num('runs', 1, 100);
const LIVE = flags.smoke ? 5 : num('live', 1, 1000);

const ANSWER = [
  'Here is what changed, step by step:',
  '',
  '| file | change |',
  '| --- | --- |',
  '| src/users.ts | validate the email |',
  '',
  '```ts',
  'export function isEmail(s: string): boolean {',
  '  return /^[^@\\s]+@[^@\\s]+$/.test(s);',
  '}',
  '```',
  '',
  '- [x] tests pass',
  '- [ ] docs',
].join('\n');

/** Ten items of one turn, as a runner records them. */
function turn(t: number): Record<string, unknown>[] {
  const callId = `c${t}`;
  return [
    { type: 'turn_started' },
    { type: 'user_message', content: [{ type: 'text', text: `Fix test number ${t}, please.` }] },
    { type: 'policy_decision', action: 'prompt', verdict: 'allow', policies: [], reasons: [] },
    { type: 'agent_message', text: t % 3 === 0 ? ANSWER : `Looking at test ${t} first.` },
    { type: 'tool_call', callId, tool: 'shell', nativeTool: 'bash', input: { command: 'npm test' }, status: 'pending' },
    { type: 'command', callId, argv: ['bash', '-lc', 'npm test'], cwd: '/work', exitCode: 0, output: 'ok\n'.repeat(8) },
    { type: 'tool_result', callId, output: 'ok\n'.repeat(8), isError: false },
    {
      type: 'usage',
      model: 'claude-sonnet-4-5',
      inputTokens: 5200,
      outputTokens: 400,
      cachedTokens: 4000,
      costUsd: 0.01,
    },
    { type: 'agent_message', text: `Test ${t} passes now.` },
    { type: 'turn_completed', stopReason: 'end_turn' },
  ];
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const f = (n: number) => n.toFixed(1).padStart(8);
const epochNow = () => performance.timeOrigin + performance.now();

/** The scripts each page of the static export loads, gzipped, in kB (the page's own HTML lists them all). */
export function jsPerPage(outDir: string, pages: string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const page of pages) {
    const html = readFileSync(join(outDir, page, 'index.html'), 'utf8');
    const srcs = new Set([...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)].map((m) => m[1]));
    let bytes = 0;
    for (const src of srcs) bytes += gzipSync(readFileSync(join(outDir, src.replace(/^\//, '')))).length;
    sizes.set(page || '/', bytes / 1000);
  }
  return sizes;
}

async function main(): Promise<void> {
  const stack = await startStack('embedded');
  const browser = await launchBrowser();
  let runner: Socket | undefined;
  try {
    const enrolled = await stack.api<EnrolReply>(
      'POST',
      '/runners/enrol',
      { token: await stack.enrolmentToken(), name: 'bench-web' },
      null,
    );
    runner = stack.rawRunnerSocket(enrolled.body.credential);
    runner.on('session.input', (_e: unknown, ack: (r: unknown) => void) => ack({ ok: true, applied: true }));
    await new Promise<void>((resolve) => runner!.on('connect', () => resolve()));
    await runner.emitWithAck('runner.hello', { sessions: [] });
    for (;;) {
      const runners = (await stack.api<RunnerView[]>('GET', '/runners')).body;
      if (runners.find((r) => r.id === enrolled.body.runnerId)?.online) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = (
      await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title: 'Long' })
    ).body;

    // The session: ITEMS items through the runner's own write path, 200 to a batch.
    let seq = 0;
    const base = Date.now() - ITEMS * 1000;
    const report = async (items: Record<string, unknown>[]) => {
      const batch = items.map((item) => ({
        seq: ++seq,
        turnId: `t${Math.ceil(seq / 10)}`,
        createdAt: new Date(base + seq * 1000).toISOString(),
        ...item,
      }));
      const ack = (await runner!.timeout(30_000).emitWithAck('session.items', {
        sessionId: session.id,
        items: batch,
      })) as ItemsAck;
      if (!ack.ok) throw new Error(`items refused: ${JSON.stringify(ack)}`);
    };
    const seedStart = performance.now();
    const all: Record<string, unknown>[] = [];
    for (let t = 1; all.length < ITEMS; t++) all.push(...turn(t));
    for (let i = 0; i < ITEMS; i += 200) await report(all.slice(i, Math.min(ITEMS, i + 200)));
    console.log(`seeded ${ITEMS} items in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.url}/?token=${stack.token}`);
    await page
      .getByTestId('session-row')
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(() => undefined);

    // Loads: first contentful paint, and the last item on screen.
    const lastSeq = seq;
    const fcp: number[] = [];
    const lastShown: number[] = [];
    for (let r = 0; r <= RUNS; r++) {
      await page.goto(`${stack.url}/session/?id=${session.id}`);
      await page.locator(`[data-seqs~="${lastSeq}"]`).waitFor({ timeout: 120_000 });
      const t = await page.evaluate<{ fcp: number; now: number }>(
        `({ fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1, now: performance.now() })`,
      );
      if (r === 0) continue;
      fcp.push(t.fcp);
      lastShown.push(t.now);
    }
    const rowsDrawn = await page.getByTestId('item').count();

    // Live items: from the runner's report to the row on screen.
    const live: number[] = [];
    for (let k = 0; k < LIVE; k++) {
      const text = `Live answer ${k} ${Math.random().toString(36).slice(2)}`;
      const seen = page.evaluate<number>(
        `new Promise((resolve) => {
          const done = () => resolve(performance.timeOrigin + performance.now());
          const has = () => document.body.textContent.includes(${JSON.stringify(text)});
          if (has()) return done();
          const o = new MutationObserver(() => { if (has()) { o.disconnect(); done(); } });
          o.observe(document.body, { childList: true, subtree: true, characterData: true });
        })`,
      );
      await new Promise((r) => setTimeout(r, 50)); // the observer is in place
      const sentAt = epochNow();
      await report([{ type: 'agent_message', text }]);
      live.push((await seen) - sentAt);
      await new Promise((r) => setTimeout(r, 100));
    }

    // Scrolling from the bottom to the top, 600 px a frame.
    const frames = await page.evaluate<number[]>(
      `new Promise((resolve) => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        const gaps = [];
        let last = 0;
        const step = (t) => {
          if (last) gaps.push(t - last);
          last = t;
          if (window.scrollY <= 0 || gaps.length > 2000) return resolve(gaps);
          window.scrollBy(0, -600);
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      })`,
    );

    const js = jsPerPage(OUT, ['', 'session', 'approvals', 'admin', 'audit', 'usage', 'join']);
    const load = os.loadavg().map((l) => l.toFixed(2));
    console.log(`load ${load.join(' ')}; ${os.cpus().length} cores; ${ITEMS} items; ${rowsDrawn} rows drawn`);
    console.log('session page (ms)                       p50      p95      max');
    console.log(`first contentful paint             ${f(pct(fcp, 50))} ${f(pct(fcp, 95))} ${f(Math.max(...fcp))}`);
    console.log(
      `last item on screen                ${f(pct(lastShown, 50))} ${f(pct(lastShown, 95))} ${f(Math.max(...lastShown))}`,
    );
    console.log(`live item: report -> on screen     ${f(pct(live, 50))} ${f(pct(live, 95))} ${f(Math.max(...live))}`);
    console.log(
      `scroll frame (${frames.length} frames)         ${f(pct(frames, 50))} ${f(pct(frames, 95))} ${f(Math.max(...frames))}`,
    );
    console.log('');
    console.log('JS per page (kB gzipped)      now   before    ratio');
    let jsOk = true;
    for (const [p, kb] of js) {
      const before = JS_BEFORE_KB[p];
      const ratio = before ? kb / before : null;
      if (ratio !== null && ratio > TARGET_JS_RATIO) jsOk = false;
      console.log(
        `${p.padEnd(24)} ${kb.toFixed(1).padStart(8)} ${before ? before.toFixed(1).padStart(8) : '       -'} ${ratio === null ? '        -' : `${ratio.toFixed(2).padStart(8)}x`}`,
      );
    }
    if (!flags.smoke) {
      const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
      console.log('');
      console.log(`first contentful paint p50 ≤ ${TARGET_FCP_MS} ms: ${verdict(pct(fcp, 50) <= TARGET_FCP_MS)}`);
      console.log(`no scroll frame over ${TARGET_FRAME_MS} ms: ${verdict(Math.max(...frames) <= TARGET_FRAME_MS)}`);
      console.log(`JS per page ≤ ${TARGET_JS_RATIO}x the earlier build: ${verdict(jsOk)}`);
    }
    await context.close();
  } finally {
    runner?.close();
    await browser.close();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
