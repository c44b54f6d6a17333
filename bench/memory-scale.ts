/**
 * bench/memory-scale: what the team-mode server holds as a team uses it, and what a runner holds per running session.
 * Prints figures; never a test. Exit 0 whatever the figures; 1 only when the run itself is wrong.
 *
 *   npm run bench:memory-scale -- [--viewers 1000] [--sessions 100] [--runner-sessions 10] [--settle 10]
 *     [--phases viewers,sessions,runner] [--smoke]
 *
 * Three phases, each on a fresh team-mode server (`test/support/stack.ts`: its own database of the local Postgres and
 * its own Redis key prefix), so one phase's garbage is not the next one's baseline:
 * 1. **Idle viewers.** The server idle (`--settle` s after start), then `--viewers` web sockets, each joined to one of
 *    50 sessions of 20 items (a raw runner socket owns them). RSS of the server process once they all joined and it
 *    settled again, against its idle RSS. Target: ≤ 150 MB above the idle baseline.
 * 2. **Running sessions.** `--sessions` sessions streamed into at once by a raw runner socket as a runner streams a
 *    turn (`turn_started`, then a chunk every 200 ms and an `agent_message` item every 2 s in each session, 500
 *    chunks/s in all at 100 sessions), each watched by one viewer; the server's RSS after 20 s of it. No target.
 * 3. **Runner per running session.** A real runner (the yoke harness, the default sandbox) and the fake model, which
 *    streams each answer slowly (a chunk every 50 ms): `--runner-sessions` sessions, each with a turn running (its
 *    first chunk seen by a viewer). RSS of the runner's process tree (the runner, each session's agent process and
 *    sandbox) against the same tree idle, per session. No target.
 * RSS from /proc (`bench/proc-memory.ts`). Needs `npm run build`, Postgres and Redis.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Socket } from 'socket.io-client';
import type { EnrolReply, Session } from '@yoke/protocol';
import { startFakeModel } from '../test/fixtures/fake-model';
import { tempDir } from '../test/support/processes';
import { type Stack, startStack } from '../test/support/stack';
import { memoryOf, type ProcMemory, tree } from './proc-memory';
import { connected, ok, within } from './stack-calls';

const TARGET_VIEWERS_MB = 150;
const VIEWER_SESSIONS = 50;
const AGENT = 'name: bench\nprompt: p\nharness: yoke\nmodel: claude-sonnet-4-5\n';

const { values: flags } = parseArgs({
  options: {
    viewers: { type: 'string', default: '1000' },
    sessions: { type: 'string', default: '100' },
    'runner-sessions': { type: 'string', default: '10' },
    settle: { type: 'string', default: '10' },
    /** Which phases run: viewers, sessions, runner. */
    phases: { type: 'string', default: 'viewers,sessions,runner' },
    smoke: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const smoke = flags.smoke;
const VIEWERS = smoke ? 20 : Number(flags.viewers);
const SESSIONS = smoke ? 5 : Number(flags.sessions);
const RUNNER_SESSIONS = smoke ? 2 : Number(flags['runner-sessions']);
const SETTLE_MS = (smoke ? 1 : Number(flags.settle)) * 1000;
const STREAM_MS = smoke ? 2_000 : 20_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const rss = (pid: number) => memoryOf(pid).rssMb;
const treeRss = (pid: number): { total: number; procs: ProcMemory[] } => {
  const procs: ProcMemory[] = [];
  for (const p of tree(pid)) {
    try {
      procs.push(memoryOf(p));
    } catch {
      // gone meanwhile
    }
  }
  return { total: procs.reduce((s, p) => s + p.rssMb, 0), procs };
};

/** A raw runner socket that owns sessions where nothing runs unless the bench writes into them. */
async function rawRunner(stack: Stack): Promise<{ socket: Socket; runnerId: string }> {
  const enrol = await ok<EnrolReply>(
    'enrol',
    stack.api('POST', '/runners/enrol', { token: await stack.enrolmentToken(), name: 'bench-raw' }),
  );
  const socket = stack.rawRunnerSocket(enrol.credential);
  socket.on('session.input', (_e: unknown, ack: (r: unknown) => void) => ack({ ok: true, applied: true }));
  await connected(socket);
  await within('runner.hello', socket.emitWithAck('runner.hello', { sessions: [] }));
  return { socket, runnerId: enrol.runnerId };
}

async function passiveSessions(stack: Stack, runnerId: string, n: number): Promise<Session[]> {
  const out: Session[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await ok<Session>(
        'create',
        stack.api('POST', '/sessions', { agentYaml: 'name: bench\nprompt: p\nharness: yoke\nmodel: m\n', runnerId }),
      ),
    );
  }
  return out;
}

async function items(socket: Socket, sessionId: string, items: Record<string, unknown>[]): Promise<void> {
  const ack = (await within('session.items', socket.emitWithAck('session.items', { sessionId, items }))) as {
    ok: boolean;
  };
  if (!ack.ok) throw new Error(`session.items refused: ${JSON.stringify(ack)}`);
}

async function withStack<T>(run: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack('team');
  try {
    return await run(stack);
  } finally {
    await stack.stop();
  }
}

async function idleViewers(): Promise<string> {
  return withStack(async (stack) => {
    const raw = await rawRunner(stack);
    const sessions = await passiveSessions(stack, raw.runnerId, VIEWER_SESSIONS);
    const createdAt = new Date().toISOString();
    for (const s of sessions) {
      const batch = Array.from({ length: 20 }, (_, k) => ({
        seq: k + 1,
        createdAt,
        type: 'notice',
        level: 'info',
        text: `step ${k + 1}: ran the invoice tests`,
      }));
      await items(raw.socket, s.id, batch);
    }
    await sleep(SETTLE_MS);
    const idle = rss(stack.server.child.pid!);
    const viewers: Socket[] = [];
    for (let i = 0; i < VIEWERS; i++) {
      const v = stack.webSocket();
      viewers.push(v);
      if (i % 50 === 49) await Promise.all(viewers.slice(-50).map(connected));
    }
    await Promise.all(viewers.map(connected));
    for (let i = 0; i < viewers.length; i += 50) {
      await Promise.all(
        viewers
          .slice(i, i + 50)
          .map((v, k) =>
            within('join', v.emitWithAck('session.join', { sessionId: sessions[(i + k) % sessions.length].id })),
          ),
      );
    }
    const joined = rss(stack.server.child.pid!);
    await sleep(SETTLE_MS);
    const settled = rss(stack.server.child.pid!);
    for (const v of viewers) v.disconnect();
    raw.socket.disconnect();
    const above = settled - idle;
    const verdict = smoke ? 'smoke: no target' : above <= TARGET_VIEWERS_MB ? 'PASS' : 'FAIL';
    return (
      `idle viewers: server ${idle} MB idle; ${VIEWERS} viewers joined to ${VIEWER_SESSIONS} sessions: ${joined} MB, ` +
      `settled ${settled} MB: +${above} MB (${((above * 1024) / VIEWERS).toFixed(1)} KB a viewer) — target ≤ ` +
      `${TARGET_VIEWERS_MB} MB above idle: ${verdict}`
    );
  });
}

async function runningSessions(): Promise<string> {
  return withStack(async (stack) => {
    const raw = await rawRunner(stack);
    const sessions = await passiveSessions(stack, raw.runnerId, SESSIONS);
    await sleep(SETTLE_MS);
    const idle = rss(stack.server.child.pid!);
    const viewers = sessions.map(() => stack.webSocket());
    await Promise.all(viewers.map(connected));
    await Promise.all(
      viewers.map((v, i) => within('join', v.emitWithAck('session.join', { sessionId: sessions[i].id }))),
    );
    const seqs = sessions.map(() => 0);
    const actor = { id: 'bench', name: 'Bench' };
    const item = (i: number, body: Record<string, unknown>) => ({
      seq: ++seqs[i],
      createdAt: new Date().toISOString(),
      turnId: 't1',
      actor,
      ...body,
    });
    await Promise.all(sessions.map((s, i) => items(raw.socket, s.id, [item(i, { type: 'turn_started' })])));
    const start = performance.now();
    let tick = 0;
    let peak = 0;
    while (performance.now() - start < STREAM_MS) {
      tick++;
      for (let i = 0; i < sessions.length; i++) {
        raw.socket.emit('session.delta', {
          sessionId: sessions[i].id,
          afterSeq: seqs[i],
          delta: {
            type: 'agent_message_delta',
            turnId: 't1',
            streamId: `s${tick}`,
            text: 'Reading the invoice tests ',
          },
        });
      }
      if (tick % 10 === 0) {
        await Promise.all(
          sessions.map((s, i) =>
            items(raw.socket, s.id, [
              item(i, { type: 'agent_message', streamId: `s${tick}`, text: 'Reading the invoice tests, step done.' }),
            ]),
          ),
        );
        peak = Math.max(peak, rss(stack.server.child.pid!));
      }
      await sleep(200);
    }
    const streaming = rss(stack.server.child.pid!);
    for (const v of viewers) v.disconnect();
    raw.socket.disconnect();
    return (
      `running sessions: server ${idle} MB idle; ${SESSIONS} sessions streaming (${Math.round((SESSIONS * 1000) / 200)} ` +
      `chunks/s, an item every 2 s each, one viewer each) for ${STREAM_MS / 1000} s: ${streaming} MB ` +
      `(+${streaming - idle} MB; peak seen ${peak} MB)`
    );
  });
}

async function runnerPerSession(): Promise<string> {
  const model = await startFakeModel();
  try {
    // A long answer (a chunk every 50 ms for 100 s): each turn runs while the runner is measured.
    const answer = 'Reading the invoice tests. '.repeat(2_000);
    model.script([{ match: 'HOLD', steps: [{ text: answer, chunks: 2_000, chunkIntervalMs: 50 }] }]);
    return await withStack(async (stack) => {
      const runner = await stack.startRunner({
        env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key' },
      });
      const viewer = stack.webSocket();
      await connected(viewer);
      await sleep(SETTLE_MS);
      const idle = treeRss(runner.proc.child.pid!);
      const running = new Set<string>();
      viewer.on('session.delta', (d: { sessionId: string }) => running.add(d.sessionId));
      for (let i = 0; i < RUNNER_SESSIONS; i++) {
        const s = await ok<Session>(
          'create',
          stack.api('POST', '/sessions', {
            agentYaml: AGENT,
            prompt: `HOLD ${i}`,
            workspace: tempDir('yoke-ws'),
            runnerId: runner.runnerId,
          }),
        );
        // A turn that streamed before the join shows in the join's partial text.
        const joined = (await within('join', viewer.emitWithAck('session.join', { sessionId: s.id }))) as {
          partials?: unknown[];
        };
        if (joined.partials?.length) running.add(s.id);
      }
      const t = performance.now();
      while (running.size < RUNNER_SESSIONS) {
        if (performance.now() - t > 180_000) throw new Error(`only ${running.size} turns streamed in 180 s`);
        await sleep(100);
      }
      await sleep(SETTLE_MS);
      const busy = treeRss(runner.proc.child.pid!);
      viewer.disconnect();
      const per = (busy.total - idle.total) / RUNNER_SESSIONS;
      const roles = new Map<string, { n: number; mb: number }>();
      for (const p of busy.procs) {
        const r = roles.get(p.role) ?? { n: 0, mb: 0 };
        roles.set(p.role, { n: r.n + 1, mb: r.mb + p.rssMb });
      }
      const byRole = [...roles].map(([role, r]) => `${role} ×${r.n} ${r.mb} MB`).join(', ');
      return (
        `runner: ${idle.total} MB idle (${idle.procs.length} processes); ${RUNNER_SESSIONS} sessions with a turn ` +
        `running: ${busy.total} MB (${busy.procs.length} processes): ${per.toFixed(1)} MB a running session\n` +
        `  by process: ${byRole}`
      );
    });
  } finally {
    await model.close();
  }
}

async function main(): Promise<void> {
  if (flags.help) {
    console.log(
      'npm run bench:memory-scale -- [--viewers N] [--sessions N] [--runner-sessions N] [--settle S] [--smoke]',
    );
    return;
  }
  console.log(`load at start: ${load()} · ${os.cpus().length} cores · Node ${process.version}`);
  const chosen = new Set(flags.phases.split(','));
  const phases = { viewers: idleViewers, sessions: runningSessions, runner: runnerPerSession };
  for (const [name, phase] of Object.entries(phases)) {
    if (!chosen.has(name)) continue;
    console.log(await phase());
    console.log(`  (load ${load()})`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
