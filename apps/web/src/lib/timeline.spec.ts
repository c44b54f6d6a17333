import type { Delta, Item } from '@yoke/protocol';
import { EMPTY_TIMELINE, timelineReducer, type TimelineAction, type TimelineState } from '@/lib/timeline';

const SID = '00000000-0000-4000-8000-000000000001';
const at = '2026-01-01T00:00:00.000Z';
const agent = (seq: number, text: string, streamId?: string): Item => ({
  seq,
  sessionId: SID,
  createdAt: at,
  type: 'agent_message',
  text,
  ...(streamId ? { streamId } : {}),
});
const delta = (streamId: string, text: string, turnId = 't1'): Delta => ({
  type: 'agent_message_delta',
  turnId,
  streamId,
  text,
});
const run = (...actions: TimelineAction[]): TimelineState => actions.reduce(timelineReducer, EMPTY_TIMELINE);

describe('timelineReducer', () => {
  it('builds a bubble from deltas and replaces it with the final item of the same stream', () => {
    let s = run({ type: 'delta', delta: delta('s1', 'Hel') }, { type: 'delta', delta: delta('s1', 'lo') });
    expect(s.streams).toEqual([{ streamId: 's1', kind: 'agent_message', turnId: 't1', text: 'Hello' }]);
    s = timelineReducer(s, { type: 'items', items: [agent(1, 'Hello', 's1')] });
    expect(s.streams).toEqual([]);
    expect(s.items.map((i) => i.seq)).toEqual([1]);
  });

  it('ignores deltas that arrive after their stream completed', () => {
    const s = run({ type: 'items', items: [agent(1, 'Hi', 's1')] }, { type: 'delta', delta: delta('s1', ' late') });
    expect(s.streams).toEqual([]);
  });

  it('drops a command output stream when its command item lands, and streams of an ended turn', () => {
    const out: Delta = { type: 'command_output_delta', turnId: 't1', streamId: 'o1', callId: 'c1', text: 'a\n' };
    let s = run({ type: 'delta', delta: out }, { type: 'delta', delta: delta('s2', 'x') });
    expect(s.streams.map((x) => x.streamId)).toEqual(['o1', 's2']);
    const command: Item = {
      seq: 1,
      sessionId: SID,
      createdAt: at,
      type: 'command',
      callId: 'c1',
      argv: ['ls'],
      cwd: '/',
      exitCode: 0,
      output: 'a\n',
    };
    s = timelineReducer(s, { type: 'items', items: [command] });
    expect(s.streams.map((x) => x.streamId)).toEqual(['s2']);
    const done: Item = {
      seq: 2,
      sessionId: SID,
      createdAt: at,
      type: 'turn_completed',
      turnId: 't1',
      stopReason: 'cancelled',
    };
    s = timelineReducer(s, { type: 'items', items: [done] });
    expect(s.streams).toEqual([]);
    expect(timelineReducer(s, { type: 'delta', delta: delta('s3', 'y') }).streams).toEqual([]);
  });

  it('seeds from join partials, merging deltas buffered while joining without duplicating text', () => {
    const s = run(
      { type: 'delta', delta: delta('old', 'stale') },
      {
        type: 'seed',
        partials: [{ type: 'agent_message_delta', turnId: 't1', streamId: 's1', afterSeq: 0, text: 'Hello wor' }],
        buffered: [delta('s1', 'wor'), delta('s1', 'ld'), delta('s2', 'new')],
      },
    );
    expect(s.streams.map((x) => [x.streamId, x.text])).toEqual([
      ['s1', 'Hello world'],
      ['s2', 'new'],
    ]);
  });

  it('does not seed a partial whose final item was already delivered', () => {
    const s = run(
      { type: 'items', items: [agent(1, 'done', 's1')] },
      {
        type: 'seed',
        partials: [{ type: 'agent_message_delta', turnId: 't1', streamId: 's1', afterSeq: 0, text: 'do' }],
        buffered: [],
      },
    );
    expect(s.streams).toEqual([]);
  });
});
