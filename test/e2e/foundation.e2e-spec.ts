import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Item, ItemSequencer, ItemsPage, JoinAck, type Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { runCli, tempDir } from '../support/processes';
import { type RunnerProc, type Stack, startStack } from '../support/stack';

const AGENT = `name: helper
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
`;

/** A viewer on the /web socket: joins (room first, then history) and records every item it is handed. */
function viewer(stack: Stack, sessionId: string) {
  const socket = stack.webSocket();
  const delivered: Item[] = [];
  const rawLive: number[] = [];
  const seq = new ItemSequencer((i) => delivered.push(i));
  socket.on('session.items', (items: Item[]) => {
    for (const item of items) {
      if (item.sessionId !== sessionId) continue;
      rawLive.push(item.seq);
      seq.push(item);
    }
  });
  const joined = new Promise<void>((resolve, reject) => {
    socket.on('connect', () => {
      socket.emit('session.join', { sessionId, afterSeq: seq.last }, (raw: unknown) => {
        const parsed = JoinAck.safeParse(raw);
        if (!parsed.success) return reject(parsed.error);
        const reply = parsed.data;
        if (!reply.ok) return reject(new Error(reply.error.message));
        seq.pushAll(reply.items);
        resolve();
      });
    });
  });
  return { socket, delivered, rawLive, joined };
}

async function history(stack: Stack, sessionId: string): Promise<Item[]> {
  const r = await stack.api('GET', `/sessions/${sessionId}/items?afterSeq=0`);
  expect(r.status).toBe(200);
  return ItemsPage.parse(r.body).items;
}

async function session(stack: Stack, id: string): Promise<Session> {
  return (await stack.api<Session>('GET', `/sessions/${id}`)).body;
}

function expectContiguous(items: Item[]) {
  expect(items.map((i) => i.seq)).toEqual(items.map((_, k) => k + 1));
}

function expectInOrder(types: string[], expected: string[]) {
  let at = -1;
  for (const t of expected) {
    const next = types.indexOf(t, at + 1);
    if (next < 0) throw new Error(`expected ${t} after position ${at} in [${types.join(', ')}]`);
    at = next;
  }
}

describe.each(MODES)('foundation: one agent turn end to end (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;
  let runner: RunnerProc;
  let firstSessionId: string;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack(mode);
    runner = await stack.startRunner({
      env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  async function createSession(prompt: string, workspace = tempDir('yoke-ws')): Promise<Session> {
    const r = await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, prompt, workspace });
    expect(r.status).toBe(201);
    return r.body;
  }

  it('yoke run --json streams the whole turn in order, the shell call really ran, and REST history matches', async () => {
    model.script([
      {
        match: 'WRITE-HI',
        steps: [
          {
            toolCalls: [{ name: 'shell', input: { command: 'echo hi > out.txt' } }],
            usage: { inputTokens: 120, outputTokens: 20 },
          },
          { text: 'I wrote hi into out.txt.', usage: { inputTokens: 160, outputTokens: 12 } },
        ],
      },
    ]);
    const ws = tempDir('yoke-ws');
    writeFileSync(join(ws, 'agent.yaml'), AGENT);
    const out = await runCli(
      ['run', join(ws, 'agent.yaml'), 'please WRITE-HI', '--json', '--workspace', ws],
      stack.cliEnv,
    );
    expect(out.stderr).not.toMatch(/error/i);
    expect(out.code).toBe(0);
    const printed = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Item);
    const types = printed.map((i) => i.type);
    expectInOrder(types, [
      'turn_started',
      'user_message',
      'tool_call',
      'command',
      'tool_result',
      'agent_message',
      'usage',
      'turn_completed',
    ]);
    expect(types[0]).toBe('turn_started');
    expect(types[types.length - 1]).toBe('turn_completed');
    const call = printed.find((i) => i.type === 'tool_call');
    expect(call).toMatchObject({ tool: 'shell' });
    expect(printed.find((i) => i.type === 'agent_message')).toMatchObject({ text: 'I wrote hi into out.txt.' });
    expect(readFileSync(join(ws, 'out.txt'), 'utf8')).toBe('hi\n');
    expectContiguous(printed);

    firstSessionId = printed[0].sessionId;
    expect(await history(stack, firstSessionId)).toEqual(printed);
    expect(await session(stack, firstSessionId)).toMatchObject({ status: 'idle', lastSeq: printed.length });
    expect((await session(stack, firstSessionId)).costUsd).toBeGreaterThan(0);
  });

  it('a viewer joining mid-turn gets the whole history plus the live rest, each seq exactly once', async () => {
    model.script([
      {
        match: 'MID-TURN',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo one' } }] },
          { holdUntil: 'mid-turn', text: 'Second half of the answer.' },
        ],
      },
    ]);
    const s = await createSession('go MID-TURN');
    const early = viewer(stack, s.id);
    await early.joined;
    await expectEventually(() => early.delivered.some((i) => i.type === 'tool_result'));
    await expectEventually(() => model.requests.filter((r) => JSON.stringify(r.body).includes('MID-TURN')).length >= 2);

    const late = viewer(stack, s.id);
    await late.joined;
    expect(late.delivered.length).toBeGreaterThan(3); // history arrived with the join
    model.release('mid-turn');

    await expectEventually(() => late.delivered.some((i) => i.type === 'turn_completed'));
    await expectEventually(() => early.delivered.some((i) => i.type === 'turn_completed'));
    const rest = await history(stack, s.id);
    expectContiguous(rest);
    expect(late.delivered).toEqual(rest);
    expect(early.delivered).toEqual(rest);
    expect(new Set(late.rawLive).size).toBe(late.rawLive.length); // the server never pushed a seq twice
  });

  it('a runner killed with SIGKILL mid-turn loses nothing and the session ends failed with a reason', async () => {
    model.script([{ match: 'KILL-ME', steps: [{ holdUntil: 'kill-me', text: 'never seen' }] }]);
    const s = await createSession('start KILL-ME');
    await expectEventually(async () => (await history(stack, s.id)).some((i) => i.type === 'user_message'));
    await expectEventually(() => model.requests.some((r) => JSON.stringify(r.body).includes('KILL-ME')));
    const before = await history(stack, s.id);

    await runner.proc.kill('SIGKILL');
    await expectEventually(async () => !(await session(stack, s.id)).runnerOnline);
    await runner.restart();

    await expectEventually(async () => (await session(stack, s.id)).status === 'failed');
    const after = await history(stack, s.id);
    expectContiguous(after);
    expect(after.slice(0, before.length)).toEqual(before);
    const failed = after.find((i) => i.type === 'turn_failed');
    expect(failed).toMatchObject({ type: 'turn_failed' });
    expect((await session(stack, s.id)).statusReason).toMatch(/runner/i);
    model.release('kill-me');

    // The session is usable again: the next turn runs on the restarted runner.
    model.script([{ match: 'AFTER-KILL', steps: [{ text: 'Back again.' }] }]);
    const sent = await stack.api('POST', `/sessions/${s.id}/messages`, { text: 'AFTER-KILL now' });
    expect(sent.status).toBe(202);
    await expectEventually(async () => (await history(stack, s.id)).some((i) => i.type === 'turn_completed'));
    expect((await session(stack, s.id)).status).toBe('idle');
    const final = await history(stack, s.id);
    expectContiguous(final);
    expect(final.filter((i) => i.type === 'turn_completed')).toHaveLength(1);
  });

  it('the server restarted mid-session: the runner reconnects and the next turn works', async () => {
    model.script([
      { match: 'BEFORE-RESTART', steps: [{ text: 'First.' }] },
      { match: 'AFTER-RESTART', steps: [{ text: 'Second.' }] },
    ]);
    const s = await createSession('BEFORE-RESTART');
    await expectEventually(async () => (await history(stack, s.id)).some((i) => i.type === 'turn_completed'));
    const connectsBefore = runner.proc.lines.filter((l) => l.includes('connected to server')).length;

    await stack.restartServer();
    await expectEventually(
      () => runner.proc.lines.filter((l) => l.includes('connected to server')).length > connectsBefore,
      30_000,
    );

    const sent = await stack.api('POST', `/sessions/${s.id}/messages`, { text: 'AFTER-RESTART please' });
    expect(sent.status).toBe(202);
    await expectEventually(
      async () => (await history(stack, s.id)).filter((i) => i.type === 'turn_completed').length === 2,
    );
    const items = await history(stack, s.id);
    expectContiguous(items);
    expect(items.filter((i) => i.type === 'agent_message').map((i) => (i as Item & { text: string }).text)).toEqual([
      'First.',
      'Second.',
    ]);
  });
});

/**
 * Exactly once with a full window: the runner keeps up to 8 one-item batches of a session in flight (small batches
 * so that many are on the wire at once), and either side is killed with SIGKILL mid-stream.
 */
describe('foundation: exactly once across SIGKILL with a window of batches in flight (team mode)', () => {
  const CALLS = 120;
  const calls = Array.from({ length: CALLS }, (_, k) => ({ name: 'read_file', input: { path: `f-${k}.txt` } }));
  let model: FakeModel;
  let stack: Stack;
  let runner: RunnerProc;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack('team');
    runner = await stack.startRunner({
      env: {
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        YOKE_OUTBOX_WINDOW: '8',
        YOKE_OUTBOX_BATCH_ITEMS: '1',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  async function stream(match: string, then: { holdUntil?: string; text: string }): Promise<Session> {
    model.script([{ match, steps: [{ toolCalls: calls }, then] }]);
    const r = await stack.api<Session>('POST', '/sessions', {
      agentYaml: AGENT,
      prompt: `go ${match}`,
      workspace: tempDir('yoke-ws'),
    });
    expect(r.status).toBe(201);
    return r.body;
  }

  /** The whole log, page by page. */
  async function allItems(sessionId: string): Promise<Item[]> {
    const items: Item[] = [];
    for (;;) {
      const after = items.length ? items[items.length - 1].seq : 0;
      const r = await stack.api('GET', `/sessions/${sessionId}/items?afterSeq=${after}&limit=1000`);
      expect(r.status).toBe(200);
      const page = ItemsPage.parse(r.body);
      items.push(...page.items);
      if (!page.hasMore) return items;
    }
  }

  /** What the runner's outbox holds beyond what the server stored: sent and unacknowledged, or not sent yet. */
  function unacknowledged(sessionId: string, storedSeq: number): number {
    const lines = readFileSync(join(runner.home, 'sessions', sessionId, 'outbox.jsonl'), 'utf8').split('\n');
    return lines.filter((l) => l && (JSON.parse(l) as { seq: number }).seq > storedSeq).length;
  }

  /** Seqs 1..N each once, and every tool call of the script stored once, in order, with its own input. */
  function expectExactlyOnce(items: Item[]) {
    expectContiguous(items);
    const inputs = items.flatMap((i) => (i.type === 'tool_call' ? [(i.input as { path: string }).path] : []));
    expect(inputs).toEqual(calls.slice(0, inputs.length).map((c) => c.input.path));
    const callIds = items.flatMap((i) => (i.type === 'tool_call' ? [i.callId] : []));
    expect(new Set(callIds).size).toBe(callIds.length);
    const results = items.flatMap((i) => (i.type === 'tool_result' ? [i.callId] : []));
    expect(new Set(results).size).toBe(results.length);
    expect(results.every((id) => callIds.includes(id))).toBe(true);
  }

  it('the runner killed with a full window: what the server stored stays, the rest arrives once, 1..N', async () => {
    const s = await stream('WINDOW-RUNNER-KILL', { holdUntil: 'window-runner-kill', text: 'never seen' });
    await expectEventually(async () => (await session(stack, s.id)).lastSeq >= 20);
    await runner.proc.kill('SIGKILL');
    const before = await allItems(s.id);
    // Killed mid-stream: the outbox held more than the server had stored (batches in flight, and more behind them;
    // how many depends on how far the server got before the kill).
    expect(unacknowledged(s.id, before.length)).toBeGreaterThan(0);

    await runner.restart();
    await expectEventually(async () => (await session(stack, s.id)).status === 'failed', 30_000);
    model.release('window-runner-kill');
    const after = await allItems(s.id);
    expect(after.slice(0, before.length)).toEqual(before);
    expectExactlyOnce(after);
    expect(after.filter((i) => i.type === 'tool_call').length).toBeGreaterThan(
      before.filter((i) => i.type === 'tool_call').length,
    );
    expect(after.filter((i) => i.type === 'turn_failed')).toHaveLength(1);
    expect((await session(stack, s.id)).lastSeq).toBe(after.length);
  });

  it('the server killed with a full window: the runner resends from what the server holds, 1..N, nothing twice', async () => {
    const s = await stream('WINDOW-SERVER-KILL', { text: 'All read.' });
    await expectEventually(async () => (await session(stack, s.id)).lastSeq >= 20);
    const connects = runner.proc.lines.filter((l) => l.includes('connected to server')).length;
    await stack.server.kill('SIGKILL');
    await expectEventually(() => runner.proc.lines.some((l) => l.includes('disconnected from server')));
    // What the runner had not seen acknowledged when the server died: batches in flight, and more behind them.
    const acked = Number(readFileSync(join(runner.home, 'sessions', s.id, 'acked'), 'utf8'));
    expect(unacknowledged(s.id, acked)).toBeGreaterThan(0);
    await stack.restartServer();
    await expectEventually(
      () => runner.proc.lines.filter((l) => l.includes('connected to server')).length > connects,
      30_000,
    );

    await expectEventually(async () => (await allItems(s.id)).some((i) => i.type === 'turn_completed'), 60_000);
    const items = await allItems(s.id);
    expectExactlyOnce(items);
    expect(items.filter((i) => i.type === 'tool_call')).toHaveLength(CALLS);
    expect(items.filter((i) => i.type === 'tool_result')).toHaveLength(CALLS);
    expect(items.filter((i) => i.type === 'turn_completed')).toHaveLength(1);
    expect(items.find((i) => i.type === 'agent_message')).toMatchObject({ text: 'All read.' });
    expect((await session(stack, s.id)).lastSeq).toBe(items.length);
  });
});
