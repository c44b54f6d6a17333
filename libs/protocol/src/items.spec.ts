import { parseItemDraft } from './items';

const base = { seq: 1, createdAt: '2026-01-01T00:00:00.000Z' };

describe('parseItemDraft', () => {
  it('accepts a well-formed item of each shape it knows', () => {
    const r = parseItemDraft({
      ...base,
      type: 'tool_call',
      callId: 'c1',
      tool: 'shell',
      nativeTool: 'shell',
      input: { command: 'ls' },
      status: 'pending',
    });
    expect(r.ok).toBe(true);
  });

  it('rejects unknown fields on the envelope or the body', () => {
    expect(parseItemDraft({ ...base, type: 'notice', level: 'info', text: 'x', extra: 1 }).ok).toBe(false);
    expect(parseItemDraft({ ...base, sessionId: 'x', type: 'notice', level: 'info', text: 'x' }).ok).toBe(false);
  });

  it('rejects unknown types, bad seqs, and non-objects', () => {
    expect(parseItemDraft({ ...base, type: 'nope' }).ok).toBe(false);
    expect(parseItemDraft({ ...base, seq: 0, type: 'notice', level: 'info', text: 'x' }).ok).toBe(false);
    expect(parseItemDraft([]).ok).toBe(false);
    expect(parseItemDraft(null).ok).toBe(false);
  });

  it("takes a turn item's turn from the envelope, and requires it", () => {
    expect(parseItemDraft({ ...base, turnId: 't1', type: 'turn_started' }).ok).toBe(true);
    expect(parseItemDraft({ ...base, turnId: 't1', type: 'turn_completed', stopReason: 'end_turn' }).ok).toBe(true);
    expect(parseItemDraft({ ...base, turnId: 't1', type: 'turn_failed', error: 'boom' }).ok).toBe(true);
    expect(parseItemDraft({ ...base, type: 'turn_started' }).ok).toBe(false);
    expect(parseItemDraft({ ...base, turnId: 't1', type: 'notice', level: 'info', text: 'in a turn' }).ok).toBe(true);
  });

  it('rejects a negative cost and an unknown tool kind', () => {
    const usage = { ...base, type: 'usage', model: 'm', inputTokens: 1, outputTokens: 1, cachedTokens: 0 };
    expect(parseItemDraft({ ...usage, costUsd: -1 }).ok).toBe(false);
    expect(parseItemDraft({ ...usage, costUsd: 0.1 }).ok).toBe(true);
    const call = { ...base, type: 'tool_call', callId: 'c', nativeTool: 'x', input: {}, status: 'pending' };
    expect(parseItemDraft({ ...call, tool: 'teleport' }).ok).toBe(false);
    expect(parseItemDraft({ ...call, tool: 'mcp:docs/search' }).ok).toBe(true);
  });
});
