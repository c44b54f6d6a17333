import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Item, ItemsAck, Session } from '@yoke/protocol';
import type { Socket } from 'socket.io-client';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { runCli, tempDir } from '../support/processes';
import { connected, type RunnerProc, type Stack, startStack } from '../support/stack';

const AGENT = `name: helper
prompt: You help.
harness: yoke
model: claude-sonnet-4-5
`;

const item = (seq: number, extra: Record<string, unknown> = {}) => ({
  seq,
  createdAt: new Date().toISOString(),
  type: 'notice',
  level: 'info',
  text: `note ${seq}`,
  ...extra,
});

describe.each(MODES)('bad input gets a typed error and changes nothing (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;
  let runner: RunnerProc;
  let s: Session;
  let raw: Socket;
  let before: Item[];

  beforeAll(async () => {
    model = await startFakeModel();
    model.script([{ match: 'HELLO', steps: [{ text: 'Hi.' }] }]);
    stack = await startStack(mode);
    runner = await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' } });
    s = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, prompt: 'HELLO' })).body;
    before = await expectEventually(async () => {
      const items = (await stack.api<{ items: Item[] }>('GET', `/sessions/${s.id}/items`)).body.items;
      return items.some((i) => i.type === 'turn_completed') ? items : null;
    });
    raw = stack.rawRunnerSocket(runner.credential);
    await connected(raw);
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  afterEach(async () => {
    const now = (await stack.api<{ items: Item[] }>('GET', `/sessions/${s.id}/items`)).body.items;
    expect(now).toEqual(before);
  });

  const send = (payload: unknown) => raw.timeout(10_000).emitWithAck('session.items', payload) as Promise<ItemsAck>;

  it('refuses malformed runner events', async () => {
    expect(await send({ nope: true })).toMatchObject({ ok: false, error: { code: 'event.invalid' } });
    expect(await send({ sessionId: s.id, items: [{ seq: before.length + 1, type: 'mystery' }] })).toMatchObject({
      ok: false,
      error: { code: 'event.invalid' },
    });
    expect(await send({ sessionId: s.id, items: [item(before.length + 1, { unknownField: 1 })] })).toMatchObject({
      ok: false,
      error: { code: 'event.invalid' },
    });
    expect(await send('not an object')).toMatchObject({ ok: false, error: { code: 'event.invalid' } });
  });

  it('refuses oversized runner events', async () => {
    const big = 'x'.repeat(200_000);
    const items = Array.from({ length: 6 }, (_, k) => item(before.length + 1 + k, { text: 'x', level: 'info' }));
    items.forEach((i) => (i.text = big));
    expect(await send({ sessionId: s.id, items })).toMatchObject({ ok: false, error: { code: 'event.too_large' } });
    const tooLongText = item(before.length + 1, { text: 'y'.repeat(300 * 1024) });
    expect(await send({ sessionId: s.id, items: [tooLongText] })).toMatchObject({
      ok: false,
      error: { code: 'event.invalid' },
    });
  });

  it('refuses a seq gap and takes a replay as a no-op', async () => {
    const gap = await send({ sessionId: s.id, items: [item(before.length + 5)] });
    expect(gap).toMatchObject({ ok: false, error: { code: 'event.seq_gap' } });
    const replay = await send({ sessionId: s.id, items: [item(1)] });
    expect(replay).toEqual({ ok: true, lastSeq: before.length });
    const unordered = await send({ sessionId: s.id, items: [item(before.length + 2), item(before.length + 1)] });
    expect(unordered).toMatchObject({ ok: false, error: { code: 'event.invalid' } });
  });

  it("refuses items for another runner's session and for unknown sessions", async () => {
    const other = await stack.startRunner();
    const otherSocket = stack.rawRunnerSocket(other.credential);
    await connected(otherSocket);
    const reply = (await otherSocket.timeout(10_000).emitWithAck('session.items', {
      sessionId: s.id,
      items: [item(before.length + 1)],
    })) as ItemsAck;
    expect(reply).toMatchObject({ ok: false, error: { code: 'event.session_mismatch' } });
    expect(await send({ sessionId: randomUUID(), items: [item(1)] })).toMatchObject({
      ok: false,
      error: { code: 'session.not_found' },
    });
  });

  it('refuses a forged runner token at the handshake', async () => {
    const forged = stack.rawRunnerSocket('ykr_forged-credential');
    const err = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      forged.once('connect_error', resolve),
    );
    expect(err.data?.code).toBe('auth.invalid_token');
  });

  it('refuses invalid agent YAML with file, line and field, over REST and in the CLI', async () => {
    const bad = 'name: helper\nprompt: hi\nharness: yoke\ncolour: blue\n';
    const r = await stack.api<{ code: string; message: string }>('POST', '/sessions', {
      agentYaml: bad,
      agentFile: 'bad.yaml',
    });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('agent.invalid');
    expect(r.body.message).toMatch(/bad\.yaml:4/);
    const ws = tempDir('yoke-bad');
    writeFileSync(join(ws, 'bad.yaml'), 'name: [unclosed\n');
    const out = await runCli(['run', join(ws, 'bad.yaml'), 'hi'], stack.cliEnv);
    expect(out.code).not.toBe(0);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/bad\.yaml:\d+:\d+: /);
    const list = await stack.api<{ sessions: Session[] }>('GET', '/sessions');
    expect(list.body.sessions.map((x) => x.id)).toEqual([s.id]);
  });

  it('refuses unknown sessions and bodies over REST', async () => {
    expect((await stack.api('GET', `/sessions/${randomUUID()}`)).status).toBe(404);
    expect((await stack.api('GET', '/sessions/not-a-uuid')).status).toBe(404);
    expect((await stack.api('POST', `/sessions/${s.id}/messages`, { text: 'hi', extra: 1 })).status).toBe(400);
    expect((await stack.api('POST', `/sessions/${s.id}/messages`, '{"text": ')).status).toBe(400);
    // Embedded too: loopback is not a user boundary, the local secret is.
    expect((await stack.api('GET', '/sessions', undefined, null)).status).toBe(401);
    expect((await stack.api('GET', '/sessions', undefined, 'ykt_forged')).status).toBe(401);
  });
});
