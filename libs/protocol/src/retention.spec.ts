import {
  ERASABLE_ITEM_TYPES,
  eraseInboxInput,
  eraseItemBody,
  erasureMarker,
  ItemBody,
  InboxInput,
  LegalHoldBody,
  RetentionSettings,
} from './index';

const SECRET = 'the-secret-words-7f3a';
const marker = erasureMarker(new Date('2026-12-05T10:00:00Z'));

/** One body of every type that carries content, each holding SECRET wherever content goes. */
const bodies: ItemBody[] = [
  {
    type: 'user_message',
    content: [
      { type: 'text', text: SECRET },
      { type: 'file', path: 'a.ts', content: SECRET },
    ],
  },
  { type: 'agent_message', text: SECRET, streamId: 's1' },
  { type: 'reasoning', text: SECRET },
  {
    type: 'tool_call',
    callId: 'c1',
    tool: 'shell',
    nativeTool: 'Bash',
    input: { command: SECRET },
    status: 'completed',
  },
  { type: 'tool_result', callId: 'c1', output: SECRET, isError: false },
  { type: 'command', callId: 'c2', argv: ['echo', SECRET], cwd: `/home/${SECRET}`, exitCode: 0, output: SECRET },
  { type: 'file_change', path: 'src/a.ts', diff: `+${SECRET}` },
  { type: 'approval_request', approvalId: 'a1', policy: 'ask', reason: SECRET, options: ['approve', 'deny'] },
  { type: 'notice', level: 'warning', text: SECRET },
  { type: 'turn_failed', error: SECRET },
];

describe('retention erasure', () => {
  it('dates the marker by the UTC day', () => {
    expect(marker).toBe('[erased by retention on 2026-12-05]');
  });

  it('covers every erasable type, and leaves each a valid item of its type with none of its content', () => {
    expect(new Set(bodies.map((b) => b.type))).toEqual(new Set(ERASABLE_ITEM_TYPES));
    for (const body of bodies) {
      const erased = eraseItemBody(body, marker);
      expect(ItemBody.parse(erased)).toEqual(erased);
      expect(erased.type).toBe(body.type);
      expect(JSON.stringify(erased)).not.toContain(SECRET);
      // Erasing twice changes nothing more.
      expect(eraseItemBody(erased, marker)).toEqual(erased);
    }
    expect(eraseItemBody(bodies[3], marker)).toMatchObject({
      input: { erased: true },
      callId: 'c1',
      status: 'completed',
    });
    expect(eraseItemBody(bodies[0], marker)).toEqual({
      type: 'user_message',
      content: [{ type: 'text', text: marker }],
    });
  });

  it('leaves bodies without content as they are', () => {
    const usage: ItemBody = { type: 'usage', model: 'm', inputTokens: 1, outputTokens: 2, cachedTokens: 0, costUsd: 0 };
    expect(eraseItemBody(usage, marker)).toBe(usage);
  });

  it("erases a message input's text and keeps its author", () => {
    const actor = { kind: 'user' as const, id: '00000000-0000-4000-8000-000000000001', name: 'Ann' };
    const input = InboxInput.parse({ kind: 'message', content: [{ type: 'text', text: SECRET }], actor });
    const erased = eraseInboxInput(input, marker);
    expect(InboxInput.parse(erased)).toEqual({ kind: 'message', content: [{ type: 'text', text: marker }], actor });
    const cancel = InboxInput.parse({ kind: 'cancel', actor });
    expect(eraseInboxInput(cancel, marker)).toBe(cancel);
  });

  it('bounds the durations and the hold body', () => {
    expect(RetentionSettings.safeParse({ sessionContentDays: 1, auditContentDays: null }).success).toBe(true);
    expect(RetentionSettings.safeParse({ sessionContentDays: 36_500, auditContentDays: 36_500 }).success).toBe(true);
    for (const bad of [0, 36_501, 1.5, -3, '30']) {
      expect(RetentionSettings.safeParse({ sessionContentDays: bad, auditContentDays: null }).success).toBe(false);
    }
    expect(RetentionSettings.safeParse({ sessionContentDays: 1, auditContentDays: 1, extra: 1 }).success).toBe(false);
    const hold = { scope: 'user', targetId: '00000000-0000-4000-8000-000000000001', reason: 'litigation' };
    expect(LegalHoldBody.safeParse(hold).success).toBe(true);
    expect(LegalHoldBody.safeParse({ ...hold, reason: '' }).success).toBe(false);
    expect(LegalHoldBody.safeParse({ ...hold, reason: 'x'.repeat(501) }).success).toBe(false);
    expect(LegalHoldBody.safeParse({ ...hold, scope: 'team' }).success).toBe(false);
    expect(LegalHoldBody.safeParse({ ...hold, targetId: 'nope' }).success).toBe(false);
  });
});
