import type { Item } from '@yoke/protocol';
import { stripAnsi } from './ansi';
import { chatReducer, initialChatState } from './chat-state';
import { INCOMPLETE_MARK, withIncompleteMark } from './incomplete-mark';

const SESSION = '0b8a8a52-57c4-4c43-9d0f-2f1f7b1c1e10';
let seq = 0;
const item = (body: Record<string, unknown>) =>
  ({
    seq: ++seq,
    sessionId: SESSION,
    turnId: 't1',
    createdAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    ...body,
  }) as Item;

describe('an agent message its failed turn cut short', () => {
  it('keeps its text and adds the quiet mark on a line after it', () => {
    const shown = withIncompleteMark('I was halfway through\n\n', true);
    expect(stripAnsi(shown)).toBe(`I was halfway through\n${INCOMPLETE_MARK}`);
    expect(INCOMPLETE_MARK).toBe('(incomplete: the turn failed here)');
    // Dim: the mark is written in the faint style, not as the agent's own words.
    expect(shown.endsWith(`\x1b[2m${INCOMPLETE_MARK}\x1b[22m`)).toBe(true);
  });

  it('a finished message shows as it is', () => {
    expect(withIncompleteMark('All done.', undefined)).toBe('All done.');
    expect(withIncompleteMark('All done.', false)).toBe('All done.');
  });

  it('the fold marks a partial agent_message, appended or completing its stream, and no other', () => {
    let s = [
      item({ type: 'agent_message', text: 'Finished.' }),
      item({ type: 'agent_message', text: 'Cut short', partial: true }),
    ].reduce((st, i) => chatReducer(st, { type: 'item', item: i }), initialChatState());
    expect(s.entries.map((e) => [e.kind, 'isPartial' in e && e.isPartial === true])).toEqual([
      ['agent', false],
      ['agent', true],
    ]);

    s = chatReducer(s, {
      type: 'delta',
      delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's1', text: 'Stream' },
    });
    s = chatReducer(s, {
      type: 'item',
      item: item({ type: 'agent_message', text: 'Streamed', streamId: 's1', partial: true }),
    });
    expect(s.entries).toHaveLength(3);
    expect(s.entries[2]).toMatchObject({ kind: 'agent', text: 'Streamed', done: true, isPartial: true });
  });
});
