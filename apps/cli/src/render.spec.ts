import { Writable } from 'node:stream';
import type { Delta, Item } from '@yoke/protocol';
import { TerminalRenderer } from './render';

const SESSION = '6a2b1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
let seq = 0;
const at = '2026-01-01T00:00:00.000Z';
const item = (body: Record<string, unknown>): Item =>
  ({ seq: ++seq, sessionId: SESSION, createdAt: at, turnId: 't1', ...body }) as Item;
const chunk = (text: string): Delta => ({ type: 'agent_message_delta', turnId: 't1', streamId: 's1', text });

function capture() {
  let text = '';
  const out = new Writable({
    write(c: Buffer, _e, done) {
      text += c.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  return { out, text: () => text };
}

describe('TerminalRenderer', () => {
  it('keeps an answer streaming on its lines: an item arriving mid-stream is printed after the answer', () => {
    const { out, text } = capture();
    const r = new TerminalRenderer(out);
    r.delta(chunk('Added the'));
    // The proxy metered the call: its item comes before the rest of the text has been shown.
    r.item(
      item({
        type: 'metered_usage',
        model: 'claude-sonnet-4-5',
        inputTokens: 10,
        outputTokens: 2,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costMicros: 2000,
        priceVersion: '2026-12-01',
        api: 'anthropic',
        requestId: null,
      }),
    );
    r.delta(chunk(' --verbose flag.'));
    r.item(item({ type: 'agent_message', text: 'Added the --verbose flag.', streamId: 's1' }));
    r.item(item({ type: 'turn_completed', stopReason: 'end_turn' }));
    expect(text()).toMatch(
      /^Added the --verbose flag\.\n {2}metered claude-sonnet-4-5: 10 in \/ 2 out, \$0\.0020\n— turn completed\n$/,
    );
  });

  it('prints what was held back before the end of a turn whose answer never completed', () => {
    const { out, text } = capture();
    const r = new TerminalRenderer(out);
    r.delta(chunk('partial'));
    r.item(item({ type: 'notice', level: 'info', text: 'a note' }));
    r.item(item({ type: 'turn_failed', error: 'model unreachable' }));
    expect(text()).toBe('partial\n· a note\n— turn failed: model unreachable\n');
  });
});
