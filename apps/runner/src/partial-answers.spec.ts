import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { HarnessAdapter, HarnessStartOptions, TurnInput } from '@yoke/harness';
import { AgentSpec, type Delta, type InboxEntry, type ItemDraft, type SessionStartSpec } from '@yoke/protocol';
import { PartialAnswers } from './partial-answers';
import { SessionSupervisor, type TurnResult } from './session-supervisor';

const delta = (turnId: string, streamId: string, text: string): Delta => ({
  type: 'agent_message_delta',
  turnId,
  streamId,
  text,
});

describe('PartialAnswers', () => {
  it('keeps the text of streams no message carried, in the order they started, once', () => {
    const p = new PartialAnswers();
    p.begin('t1');
    p.delta(delta('t1', 'a', 'Hel'));
    p.delta(delta('t1', 'b', 'Other'));
    p.delta(delta('t1', 'a', 'lo'));
    expect(p.take()).toEqual([
      { type: 'agent_message', text: 'Hello', streamId: 'a', partial: true },
      { type: 'agent_message', text: 'Other', streamId: 'b', partial: true },
    ]);
    expect(p.take()).toEqual([]);
  });

  it('forgets a stream once its message arrives, and ignores reasoning, blank text and other turns', () => {
    const p = new PartialAnswers();
    p.begin('t2');
    p.delta(delta('t2', 'done', 'finished'));
    p.item({ type: 'agent_message', text: 'finished', streamId: 'done' });
    p.delta({ type: 'reasoning_delta', turnId: 't2', streamId: 'r', text: 'thinking' });
    p.delta(delta('t2', 'blank', '  \n'));
    p.delta(delta('t1', 'late', 'from the turn before'));
    expect(p.take()).toEqual([]);
  });

  it('starts each turn empty', () => {
    const p = new PartialAnswers();
    p.begin('t1');
    p.delta(delta('t1', 'a', 'left over'));
    p.begin('t2');
    expect(p.take()).toEqual([]);
  });
});

/** What the scripted harness does in a turn: stream deltas, emit items, then fail or finish. */
type Script = (input: TurnInput, options: HarnessStartOptions) => Promise<void>;

describe('a turn that fails after streaming text', () => {
  const actor = { id: 'u1', name: 'Ada' };
  let script: Script;
  let results: TurnResult[];
  /** Each delta with the last seq the outbox held when it was sent (what the connection sends as `afterSeq`). */
  let deltas: { afterSeq: number; delta: Delta }[];
  let sup: SessionSupervisor;

  const harness: HarnessAdapter = {
    name: 'scripted',
    start: async (options) => ({
      runTurn: async (input) => {
        await script(input, options);
        return { stopReason: 'end_turn' };
      },
      cancel: () => undefined,
      close: async () => undefined,
    }),
  };

  beforeEach(() => {
    results = [];
    deltas = [];
    const dir = mkdtempSync(join(tmpdir(), 'yoke-partial-'));
    const spec: SessionStartSpec = {
      sessionId: randomUUID(),
      agent: AgentSpec.parse({ name: 'a', prompt: 'p', model: 'm' }),
      harness: 'yoke',
      model: null,
      workspace: null,
      policies: [],
    };
    sup = SessionSupervisor.create(spec, join(dir, 'ws'), {
      dir: join(dir, 'session'),
      adapterFor: () => harness,
      provider: {},
      permission: async () => ({ behavior: 'allow' }),
      onItems: () => undefined,
      onDelta: (_id, d) => deltas.push({ afterSeq: sup.outbox.last, delta: d }),
      log: pino({ level: 'silent' }),
      onTurnEnd: (_id, result) => results.push(result),
    });
  });
  afterEach(() => sup.close());

  const send = async (text: string): Promise<ItemDraft[]> => {
    const count = results.length;
    const entry: InboxEntry = {
      id: randomUUID(),
      sessionId: sup.sessionId,
      input: { kind: 'message', content: [{ type: 'text', text }], actor },
      createdAt: new Date().toISOString(),
    };
    sup.apply(entry);
    for (let i = 0; i < 200 && results.length === count; i++) await new Promise((r) => setTimeout(r, 5));
    return sup.outbox.pending();
  };
  const stream = (options: HarnessStartOptions, d: Delta) => options.onEvent({ kind: 'delta', delta: d });

  it('records the streamed text as a partial agent message just before turn_failed, after its deltas', async () => {
    script = async (input, options) => {
      stream(options, delta(input.turnId, 's1', 'The answer '));
      stream(options, delta(input.turnId, 's1', 'is'));
      throw new Error('anthropic API error: overloaded_error: stream broke');
    };
    const items = await send('hi');
    const types = items.map((i) => i.type);
    expect(types.slice(-2)).toEqual(['agent_message', 'turn_failed']);
    const partial = items.at(-2);
    expect(partial).toMatchObject({ text: 'The answer is', streamId: 's1', partial: true, actor });
    expect(partial?.turnId).toBe(items.at(-1)?.turnId);
    expect(items.at(-1)).toMatchObject({ error: 'anthropic API error: overloaded_error: stream broke' });
    // Every delta was sent behind items the viewer already holds, and the message that replaces them comes later.
    expect(deltas).toHaveLength(2);
    for (const d of deltas) expect(d.afterSeq).toBeLessThan(partial!.seq);
  });

  it('records nothing more when the harness already emitted the message', async () => {
    script = async (input, options) => {
      stream(options, delta(input.turnId, 's1', 'Finished text'));
      options.onEvent({ kind: 'item', item: { type: 'agent_message', text: 'Finished text', streamId: 's1' } });
      throw new Error('connect ECONNREFUSED 127.0.0.1:9');
    };
    const items = await send('hi');
    const messages = items.filter((i) => i.type === 'agent_message');
    expect(messages).toHaveLength(1);
    expect(messages[0]).not.toHaveProperty('partial');
    expect(items.at(-1)?.type).toBe('turn_failed');
  });

  it('records only the unfinished message of a failed turn that finished an earlier one', async () => {
    script = async (input, options) => {
      stream(options, delta(input.turnId, 's1', 'First.'));
      options.onEvent({ kind: 'item', item: { type: 'agent_message', text: 'First.', streamId: 's1' } });
      stream(options, delta(input.turnId, 's2', 'Second, cut'));
      throw new Error('boom');
    };
    const items = await send('hi');
    expect(items.filter((i) => i.type === 'agent_message').map((i) => [i.text, 'partial' in i])).toEqual([
      ['First.', false],
      ['Second, cut', true],
    ]);
  });

  it('records no partial message for a turn that completes', async () => {
    script = async (input, options) => {
      stream(options, delta(input.turnId, 's1', 'never finished by the harness'));
    };
    const items = await send('hi');
    expect(items.some((i) => i.type === 'agent_message')).toBe(false);
    expect(items.at(-1)?.type).toBe('turn_completed');
  });
});
