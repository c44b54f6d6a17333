/**
 * bench/journeys, the journeys that write or stream, on a real stack (`startStack`) in team or embedded mode: list
 * sessions filtered, late join of a large session over the socket, create, fork at an item, add a comment, a warm
 * turn, time to first token and a new session to its first delta (a real runner, the yoke harness, the fake model at
 * zero latency). Baselines in the same run: the direct SQL read of the late join's rows, and the fake model's own
 * first byte to a client that calls it directly. SQL statements per operation in team mode come from a relay that
 * counts what the server sends Postgres (statement-counter.ts); YOKE_BENCH_TRACE_SQL=1 prints one run's statements.
 */
import { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { type Socket } from 'socket.io-client';
import { Client } from 'pg';
import { type EnrolReply, type Item, type ItemsPage, type JoinAck, type Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../../test/fixtures/fake-model';
import { createTestDatabase, type Mode } from '../../test/support/env';
import { tempDir } from '../../test/support/processes';
import { type Stack, startStack } from '../../test/support/stack';
import { type JourneyRow, pct, sorted, timeRuns, verdict } from './report';
import { startStatementCounter, type StatementCounter } from './statement-counter';
import { directItemsQuery, readEmbeddedItems } from './direct-sql';
import { connected, ok, within } from '../stack-calls';

export interface LiveOptions {
  mode: Mode;
  smoke: boolean;
  /** Sequential runs of each cheap journey (create, fork, comment, list). */
  runs: number;
  /** Runs of the turn journeys (warm turn, time to first token). */
  turns: number;
  /** Runs of new session → first delta. */
  newSessions: number;
  /** Items of the late-join session, and how many joins are timed. */
  joinItems: number;
  joins: number;
  /** Only these journeys (`LIVE_JOURNEYS`); all when absent. */
  only?: ReadonlySet<LiveJourney>;
  /** A directory for a CPU profile of the server (written when it stops). */
  cpuProf?: string;
  /** Team mode: count SQL statements through a relay between the server and Postgres (default true). */
  countStatements?: boolean;
  /**
   * The pause between the fake model's streamed chunks (default 0: each one event-loop turn after the last, so the
   * whole answer, and the end of the model call, is out before the harness relays its first chunk).
   */
  chunkIntervalMs?: number;
}

/** The live journeys by the name `--only` takes. */
export const LIVE_JOURNEYS = ['create', 'list', 'archive', 'comment', 'fork', 'join', 'turn', 'new'] as const;
export type LiveJourney = (typeof LIVE_JOURNEYS)[number];

const MATCH = 'BENCH';
const REPLY = 'Sure. The export now pages through the invoices 500 at a time and streams the CSV as it goes.';
const AGENT = `name: bench\nprompt: You are a careful coding assistant.\nharness: yoke\nmodel: claude-sonnet-4-5\n`;
const PASSIVE_AGENT = 'name: bench\nprompt: p\nharness: yoke\nmodel: m\n';
const TTFT_TARGET_MS = 25;
const NEW_SESSION_TARGET_MS = 1_500;
const JOIN_TARGET_RATIO = 2;

/** When the fake model wrote the first text of each streamed answer (patched in: the model lives in this process). */
const firstText: number[] = [];
/** When the fake model began each streamed answer (its headers: the request was read), in the same way. */
const modelStarted: number[] = [];
function probeModelWrites(): void {
  const seen = new WeakSet<ServerResponse>();
  const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    modelStarted.push(performance.now());
    return writeHead.apply(this, args);
  } as typeof ServerResponse.prototype.writeHead;
  const write = ServerResponse.prototype.write as (this: ServerResponse, ...args: unknown[]) => boolean;
  ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
    if (!seen.has(this) && typeof args[0] === 'string' && args[0].includes('"text_delta"')) {
      seen.add(this);
      firstText.push(performance.now());
    }
    return write.apply(this, args);
  } as typeof ServerResponse.prototype.write;
}

/** Resolves on the first event of a kind for a session, seen by the viewer. */
class Watch {
  private waiters: { match: (ev: string, x: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  constructor(socket: Socket) {
    socket.on('session.delta', (d: Record<string, unknown>) => this.fire('delta', d));
    socket.on('session.items', (items: Record<string, unknown>[]) => items.forEach((i) => this.fire('item', i)));
  }
  private fire(ev: string, x: Record<string, unknown>): void {
    this.waiters = this.waiters.filter((w) => (w.match(ev, x) ? (w.resolve(), false) : true));
  }
  next(what: string, match: (ev: string, x: Record<string, unknown>) => boolean): Promise<number> {
    return within(
      what,
      new Promise<number>((resolve) => this.waiters.push({ match, resolve: () => resolve(performance.now()) })),
    );
  }
}

/** A direct streaming request to the fake model, as a harness makes it: ms to the first text. */
async function directFirstText(model: FakeModel, i: number): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${model.anthropicBaseUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-key', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      stream: true,
      messages: [{ role: 'user', content: `${MATCH} direct ${i}` }],
    }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let at = NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (Number.isNaN(at) && text.includes('"text_delta"')) at = performance.now() - t;
  }
  if (Number.isNaN(at)) throw new Error(`the fake model streamed no text: ${text.slice(0, 300)}`);
  return at;
}

export async function liveJourneys(o: LiveOptions): Promise<JourneyRow[]> {
  if (firstText.length === 0) probeModelWrites();
  const wants = (j: LiveJourney) => !o.only || o.only.has(j);
  const rows: JourneyRow[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const paced = o.chunkIntervalMs ? { chunkIntervalMs: o.chunkIntervalMs } : {};
    model.script([{ match: MATCH, steps: [{ text: REPLY, chunks: 6, ...paced }] }]);
    let counter: StatementCounter | null = null;
    let pg: Client | null = null;
    let dbUrl: string | null = null;
    if (o.mode === 'team') {
      const db = await createTestDatabase();
      dbUrl = db.url;
      cleanups.push(() => db.drop());
      if (o.countStatements !== false) {
        counter = await startStatementCounter(db.url);
        cleanups.push(() => counter!.close());
      }
      pg = new Client({ connectionString: db.url });
      await pg.connect();
      cleanups.push(() => pg!.end());
    }
    // Node refuses --cpu-prof in NODE_OPTIONS: the server is profiled by a preloaded inspector session instead.
    const profiling = o.cpuProf
      ? { NODE_OPTIONS: `-r ${join(__dirname, 'cpu-profile.js')}`, YOKE_BENCH_CPU_PROF: o.cpuProf }
      : {};
    const stack: Stack = await startStack(o.mode, {
      ...(dbUrl ? { DATABASE_URL: counter?.url ?? dbUrl } : {}),
      ...profiling,
    }).catch((err: Error) => {
      throw new Error(`the ${o.mode} server did not start: ${err.message}`);
    });
    let stopped = false;
    cleanups.push(() => (stopped ? Promise.resolve() : stack.stop()));
    // The real runner runs turns: only the turn journeys need it.
    const runner =
      wants('turn') || wants('new')
        ? await stack
            .startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key' } })
            .catch((err: Error) => {
              throw new Error(`the runner did not start: ${err.message}`);
            })
        : null;

    // A second runner on a raw socket owns the passive sessions (nothing runs in them) and writes the large one.
    const enrol = await ok<EnrolReply>(
      'enrol',
      stack.api('POST', '/runners/enrol', { token: await stack.enrolmentToken(), name: 'bench-raw' }),
    );
    const raw = stack.rawRunnerSocket(enrol.credential);
    raw.on('session.input', (_e: unknown, ack: (r: unknown) => void) => ack({ ok: true, applied: true }));
    await connected(raw);
    await within('runner.hello', raw.emitWithAck('runner.hello', { sessions: [] }));
    const viewer = stack.webSocket();
    await connected(viewer);
    const watch = new Watch(viewer);

    // Statements per op: the counter's delta over the timed runs, less what the idle stack sends in that time.
    const idleStart = counter?.count ?? 0;
    const idleT = performance.now();
    await new Promise((r) => setTimeout(r, o.smoke ? 500 : 3_000));
    const idlePerMs = counter ? (counter.count - idleStart) / (performance.now() - idleT) : 0;
    const counted = async (runs: number, op: (i: number) => Promise<unknown>, warm = 2) => {
      for (let i = 0; i < warm; i++) await op(-1 - i);
      if (counter && process.env.YOKE_BENCH_TRACE_SQL) {
        counter.trace = (sql) => console.log(`  sql: ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
        await op(-99);
        counter.trace = null;
      }
      const before = counter?.count ?? 0;
      const t = performance.now();
      const times = await timeRuns(runs, op);
      const sql = counter ? (counter.count - before - idlePerMs * (performance.now() - t)) / runs : null;
      return { times, sql };
    };
    const row = (journey: string, r: { times: number[]; sql: number | null }, reqPerOp: number): JourneyRow => ({
      journey,
      mode: o.mode,
      times: r.times,
      reqPerOp,
      sqlPerOp: r.sql,
      target: '',
      verdict: 'no target',
    });

    // create (a session on the raw runner: no turn runs)
    const create = (i: number) =>
      ok<Session>(
        'create',
        stack.api('POST', '/sessions', { agentYaml: PASSIVE_AGENT, runnerId: enrol.runnerId, title: `bench ${i}` }),
      );
    if (wants('create')) rows.push(row('create session', await counted(o.runs, create), 1));
    // The sessions just made are idle (nothing ran in them): the filter matches them, not the busy ones below.
    if (wants('list')) {
      rows.push(
        row(
          'list sessions (filtered: status)',
          await counted(o.runs, () => ok('list', stack.api('GET', '/sessions?status=idle&limit=50'))),
          1,
        ),
      );
    }
    // create + archive: a session made and archived by its owner (at rest: nothing ran in it).
    const createAndArchive = async (i: number) => {
      const s = await create(i);
      return ok<Session>('archive', stack.api('POST', `/sessions/${s.id}/archive`));
    };
    if (wants('archive')) rows.push(row('create + archive', await counted(o.runs, createAndArchive), 2));

    // The large session: written by the raw runner in batches of 500, as a runner's outbox sends them.
    const big = await ok<Session>(
      'create',
      stack.api('POST', '/sessions', { agentYaml: PASSIVE_AGENT, runnerId: enrol.runnerId }),
    );
    const createdAt = new Date().toISOString();
    for (let seq = 1; seq <= o.joinItems; seq += 500) {
      const items = Array.from({ length: Math.min(500, o.joinItems - seq + 1) }, (_, k) =>
        (seq + k) % 2
          ? { seq: seq + k, createdAt, type: 'notice', level: 'info', text: `step ${seq + k}: ran the invoice tests` }
          : { seq: seq + k, createdAt, type: 'agent_message', streamId: `s${seq + k}`, text: `${REPLY} (${seq + k})` },
      );
      const ack = (await within('session.items', raw.emitWithAck('session.items', { sessionId: big.id, items }))) as {
        ok: boolean;
      };
      if (!ack.ok) throw new Error(`session.items refused: ${JSON.stringify(ack)}`);
    }

    // add a comment, fork at an item (seq 100 of the large session)
    if (wants('comment')) {
      rows.push(
        row(
          'add a comment',
          await counted(o.runs, (i) =>
            ok(
              'comment',
              stack.api('POST', `/sessions/${big.id}/comments`, {
                anchor: { kind: 'item', seq: 1 + (Math.abs(i) % o.joinItems) },
                body: `Why does step ${i} fail?`,
              }),
            ),
          ),
          1,
        ),
      );
    }
    const forkAt = Math.min(100, o.joinItems);
    if (wants('fork')) {
      rows.push(
        row(
          `fork at an item (${forkAt} items)`,
          await counted(o.runs, () =>
            ok('fork', stack.api('POST', `/sessions/${big.id}/fork`, { seq: forkAt, runnerId: enrol.runnerId })),
          ),
          1,
        ),
      );
    }

    // late join: the join's page, then REST pages after it at the server's page size, as the client's feed does; in
    // team mode each run is followed by the direct SQL read of the same rows (interleaved: both see the same machine).
    const lateJoinJourney = async () => {
      let requests = 0;
      const joinTimes: number[] = [];
      const directTimes: number[] = [];
      // Where a join's time goes: its ack (the first page), the REST pages after it, the leave.
      const split = { ack: [] as number[], pages: [] as number[], leave: [] as number[] };
      const lateJoin = async (i: number) => {
        const t0 = performance.now();
        requests = 1;
        const ack = (await within(
          'join',
          viewer.emitWithAck('session.join', { sessionId: big.id, afterSeq: 0 }),
        )) as JoinAck;
        if (!ack.ok) throw new Error(`join refused: ${ack.error.message}`);
        const acked = performance.now();
        let last = ack.items.at(-1)?.seq ?? 0;
        let count = ack.items.length;
        let more = ack.hasMore;
        while (more) {
          requests++;
          const page = await ok<ItemsPage>('items', stack.api('GET', `/sessions/${big.id}/items?afterSeq=${last}`));
          count += page.items.length;
          last = page.items.at(-1)?.seq ?? last;
          more = page.hasMore;
        }
        const paged = performance.now();
        await within('leave', viewer.emitWithAck('session.leave', { sessionId: big.id }));
        requests++;
        if (count !== o.joinItems) throw new Error(`late join read ${count} of ${o.joinItems} items`);
        if (i >= 0) {
          joinTimes.push(performance.now() - t0);
          split.ack.push(acked - t0);
          split.pages.push(paged - acked);
          split.leave.push(performance.now() - paged);
        }
        if (!pg) return;
        const t1 = performance.now();
        await directItemsQuery(pg, big.orgId, big.id, o.joinItems);
        if (i >= 0) directTimes.push(performance.now() - t1);
      };
      const joined = await counted(o.joins, lateJoin, 1);
      const direct = pg ? sorted(directTimes) : null;
      const joinRow = row(
        `late join (${o.joinItems.toLocaleString()} items)`,
        { times: sorted(joinTimes), sql: joined.sql },
        requests,
      );
      rows.push(joinRow);
      const p50 = (xs: number[]) => pct(sorted(xs), 50).toFixed(1);
      console.log(
        `${o.mode}: late join p50 by part: the join's ack ${p50(split.ack)} ms, the ${requests - 2} REST pages ` +
          `${p50(split.pages)} ms, the leave ${p50(split.leave)} ms`,
      );
      return { joinRow, direct };
    };
    const late = wants('join') ? await lateJoinJourney() : null;

    const turnDone = (id: string) => (ev: string, x: Record<string, unknown>) =>
      ev === 'item' && x.sessionId === id && x.type === 'turn_completed';
    if (wants('turn')) {
      // warm turn and time to first token: a session on the real runner, warmed by its first turn.
      const warm = await ok<Session>(
        'create',
        stack.api('POST', '/sessions', {
          agentYaml: AGENT,
          prompt: `${MATCH} warm-up`,
          workspace: tempDir('yoke-ws'),
          runnerId: runner!.runnerId,
        }),
      );
      const warmedUp = watch.next('warm-up turn', turnDone(warm.id));
      await within('join', viewer.emitWithAck('session.join', { sessionId: warm.id, afterSeq: 0 }));
      await warmedUp.catch(async (err: Error) => {
        const items = await stack.api<ItemsPage>('GET', `/sessions/${warm.id}/items`);
        if (!items.body.items.some((i: Item) => i.type === 'turn_completed')) throw err;
      });
      const ttft: number[] = [];
      const modelFirst: number[] = [];
      const directTtft: number[] = [];
      // Where a first token's time goes, hop by hop, each from the prompt's POST (all clocks are this process's).
      const hops = { reply: [] as number[], userMessage: [] as number[], modelRequest: [] as number[] };
      const turn = async (i: number) => {
        const firstDelta = watch.next('first delta', (ev, x) => ev === 'delta' && x.sessionId === warm.id);
        const userMessage = watch.next(
          'user_message',
          (ev, x) => ev === 'item' && x.sessionId === warm.id && x.type === 'user_message',
        );
        const completed = watch.next('turn_completed', turnDone(warm.id));
        const t0 = performance.now();
        const mark = firstText.length;
        const started = modelStarted.length;
        await ok('prompt', stack.api('POST', `/sessions/${warm.id}/messages`, { text: `${MATCH} turn ${i}` }));
        const replied = performance.now();
        const t1 = await firstDelta;
        const seenUserMessage = await userMessage;
        await completed;
        if (i >= 0) {
          ttft.push(t1 - t0);
          if (firstText.length > mark) modelFirst.push(firstText[mark] - t0);
          hops.reply.push(replied - t0);
          hops.userMessage.push(seenUserMessage - t0);
          if (modelStarted.length > started) hops.modelRequest.push(modelStarted[started] - t0);
          directTtft.push(await directFirstText(model, i));
        }
      };
      const turns = await counted(o.turns, turn, 2);
      rows.push(row('warm turn (prompt → turn_completed)', turns, 1));
      const ttftRow = row('time to first token', { times: sorted(ttft), sql: turns.sql }, 1);
      const directP50 = pct(sorted(directTtft), 50);
      ttftRow.baseline = { label: 'model 1st byte', p50: directP50 };
      ttftRow.target = `Yoke adds ${(pct(ttftRow.times, 50) - directP50).toFixed(1)} ms ≤ ${TTFT_TARGET_MS}`;
      ttftRow.verdict = verdict(o.smoke, pct(ttftRow.times, 50) - directP50 <= TTFT_TARGET_MS);
      rows.push(ttftRow);
      const m = pct(sorted(modelFirst), 50);
      console.log(
        `${o.mode}: time to first token p50 ${pct(ttftRow.times, 50).toFixed(1)} ms = prompt → the model's first text ` +
          `${m.toFixed(1)} ms + model → viewer ${(pct(ttftRow.times, 50) - m).toFixed(1)} ms; a direct client's ` +
          `first text ${directP50.toFixed(1)} ms`,
      );
      const hop = (xs: number[]) => (xs.length ? pct(sorted(xs), 50).toFixed(1) : 'n/a');
      console.log(
        `${o.mode}: time to first token, hop by hop (p50 from the prompt's POST): its reply ${hop(hops.reply)} ms, ` +
          `the model reads the request ${hop(hops.modelRequest)} ms, the model's first text ${m.toFixed(1)} ms, ` +
          `the viewer's user_message ${hop(hops.userMessage)} ms, the viewer's first delta ` +
          `${pct(ttftRow.times, 50).toFixed(1)} ms`,
      );

      // The same first token without Omnibox (a second runner with YOKE_SANDBOX=none), alternating turn by turn with
      // the sandboxed session: what the sandbox's network path (the egress proxy in the runner, the bridge process
      // inside the sandbox) adds to the figure, measured at the same load.
      if (!o.smoke) {
        const unsandboxed = await stack.startRunner({
          env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key', YOKE_SANDBOX: 'none' },
        });
        const plain = await ok<Session>(
          'create',
          stack.api('POST', '/sessions', {
            agentYaml: AGENT,
            prompt: `${MATCH} warm-up`,
            workspace: tempDir('yoke-ws'),
            runnerId: unsandboxed.runnerId,
          }),
        );
        const plainWarmed = watch.next('warm-up turn', turnDone(plain.id));
        await within('join', viewer.emitWithAck('session.join', { sessionId: plain.id, afterSeq: 0 }));
        await plainWarmed;
        const firstToken = async (sessionId: string, i: number, out: { ttft: number[]; request: number[] }) => {
          const firstDelta = watch.next('first delta', (ev, x) => ev === 'delta' && x.sessionId === sessionId);
          const completed = watch.next('turn_completed', turnDone(sessionId));
          const started = modelStarted.length;
          const t0 = performance.now();
          await ok('prompt', stack.api('POST', `/sessions/${sessionId}/messages`, { text: `${MATCH} compare ${i}` }));
          const t1 = await firstDelta;
          await completed;
          out.ttft.push(t1 - t0);
          if (modelStarted.length > started) out.request.push(modelStarted[started] - t0);
        };
        const sandboxed = { ttft: [] as number[], request: [] as number[] };
        const none = { ttft: [] as number[], request: [] as number[] };
        for (let i = 0; i < o.turns; i++) {
          await firstToken(warm.id, i, sandboxed);
          await firstToken(plain.id, i, none);
        }
        const p = (xs: number[]) => pct(sorted(xs), 50);
        console.log(
          `${o.mode}: time to first token, alternating, p50: sandboxed ${p(sandboxed.ttft).toFixed(1)} ms (the model ` +
            `reads the request at ${p(sandboxed.request).toFixed(1)}), YOKE_SANDBOX=none ${p(none.ttft).toFixed(1)} ms ` +
            `(at ${p(none.request).toFixed(1)}): Omnibox's path adds ${(p(sandboxed.ttft) - p(none.ttft)).toFixed(1)} ms`,
        );
      }
    }

    if (wants('new')) {
      // new session → first delta (a new harness process for each)
      const newSession = async (i: number) => {
        const t0 = performance.now();
        const s = await ok<Session>(
          'create',
          stack.api('POST', '/sessions', {
            agentYaml: AGENT,
            prompt: `${MATCH} new ${i}`,
            workspace: tempDir('yoke-ws'),
            runnerId: runner!.runnerId,
          }),
        );
        const delta = watch.next(
          'first delta',
          (ev, x) => x.sessionId === s.id && (ev === 'delta' || x.type === 'agent_message'),
        );
        const done = watch.next('turn_completed', turnDone(s.id));
        const ack = (await within(
          'join',
          viewer.emitWithAck('session.join', { sessionId: s.id, afterSeq: 0 }),
        )) as JoinAck;
        const already = ack.ok && (ack.partials.length > 0 || ack.items.some((x) => x.type === 'agent_message'));
        const at = already ? performance.now() : await delta;
        if (!already || !ack.ok || !ack.items.some((x) => x.type === 'turn_completed')) await done;
        await within('leave', viewer.emitWithAck('session.leave', { sessionId: s.id }));
        return at - t0;
      };
      const fresh: number[] = [];
      const news = await counted(
        o.newSessions,
        async (i) => {
          const ms = await newSession(i);
          if (i >= 0) fresh.push(ms);
        },
        1,
      );
      const newRow = row('new session → first delta', { times: sorted(fresh), sql: news.sql }, 3);
      newRow.target = `p50 ≤ ${NEW_SESSION_TARGET_MS} ms`;
      newRow.verdict = verdict(o.smoke, pct(newRow.times, 50) <= NEW_SESSION_TARGET_MS);
      rows.push(newRow);
    }

    // The embedded database is read directly once the server let go of it.
    stopped = true;
    await stack.stop();
    if (late) {
      const { joinRow, direct } = late;
      const baseline = direct ?? (await readEmbeddedItems(stack.home, big.id, o.joinItems, o.joins));
      const ratio = pct(joinRow.times, 50) / pct(baseline, 50);
      joinRow.baseline = { label: 'direct SQL', p50: pct(baseline, 50) };
      joinRow.target = `${ratio.toFixed(1)}x ≤ ${JOIN_TARGET_RATIO}x`;
      joinRow.verdict = verdict(o.smoke, ratio <= JOIN_TARGET_RATIO);
    }
    return rows;
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error('cleanup:', err));
  }
}
