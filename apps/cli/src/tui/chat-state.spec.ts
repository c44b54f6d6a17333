import type { Item, SessionAccess } from '@yoke/protocol';
import {
  type ChatAction,
  chatReducer,
  type ChatState,
  committedCount,
  initialChatState,
  pendingApproval,
  type ToolEntry,
  usageTotals,
} from './chat-state';

const SESSION = '0b8a8a52-57c4-4c43-9d0f-2f1f7b1c1e10';
const ME = { id: 'u-me', name: 'Ann' };
const ACCESS: SessionAccess = {
  sessionId: SESSION,
  actor: ME,
  role: 'owner',
  isGuest: false,
  canDrive: true,
  canComment: true,
  canApprove: true,
  canShare: true,
};

let seq = 0;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
function item(body: Record<string, unknown>, ms = 0): ChatAction {
  seq += 1;
  return { type: 'item', item: { seq, sessionId: SESSION, turnId: 't1', createdAt: at(ms), ...body } as Item };
}
const fold = (...actions: ChatAction[]): ChatState =>
  actions.reduce(chatReducer, chatReducer(initialChatState(), { type: 'access', access: ACCESS }));

beforeEach(() => {
  seq = 0;
});

describe('chat state', () => {
  it('streams text into one entry that the final item completes; a turn runs from the prompt to its end', () => {
    const delta = (text: string): ChatAction => ({
      type: 'delta',
      delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's1', text },
    });
    let s = fold(
      item({ type: 'user_message', content: [{ type: 'text', text: 'hi' }], actor: ME }),
      item({ type: 'turn_started' }),
      delta('Hel'),
      delta('lo'),
    );
    expect(s.isTurnRunning).toBe(true);
    expect(s.entries.map((e) => [e.kind, e.done])).toEqual([
      ['user', true],
      ['agent', false],
    ]);
    expect(s.entries[1]).toMatchObject({ text: 'Hello' });
    expect(committedCount(s.entries)).toBe(1);
    s = [
      item({ type: 'agent_message', text: 'Hello.', streamId: 's1' }),
      item({ type: 'turn_completed', stopReason: 'end_turn' }),
    ].reduce(chatReducer, s);
    expect(s.entries).toHaveLength(2);
    expect(s.entries[1]).toMatchObject({ kind: 'agent', text: 'Hello.', done: true });
    expect(s.entries[0]).toMatchObject({ kind: 'user', isMine: true, author: 'Ann' });
    expect(s.isTurnRunning).toBe(false);
    expect(committedCount(s.entries)).toBe(2);
    expect(s.lastSeq).toBe(4);
  });

  it("shows a co-driver's prompt with their name", () => {
    const s = fold(
      item({
        type: 'user_message',
        content: [{ type: 'text', text: 'from the web' }],
        actor: { id: 'u-bob', name: 'Bob' },
      }),
    );
    expect(s.entries[0]).toMatchObject({ kind: 'user', isMine: false, author: 'Bob', text: 'from the web' });
  });

  it('folds a tool call, its live output, command and result into one entry with status and duration', () => {
    let s = fold(
      item(
        {
          type: 'tool_call',
          callId: 'c1',
          tool: 'shell',
          nativeTool: 'shell',
          input: { command: 'ls' },
          status: 'pending',
        },
        0,
      ),
      {
        type: 'delta',
        delta: { type: 'command_output_delta', turnId: 't1', streamId: 'o1', callId: 'c1', text: 'a\n' },
      },
    );
    expect(s.entries[0]).toMatchObject({
      kind: 'tool',
      status: 'running',
      output: 'a\n',
      summary: '$ ls',
      done: false,
    });
    s = [
      item(
        { type: 'command', callId: 'c1', argv: ['bash', '-c', 'ls'], cwd: '/w', exitCode: 0, output: 'a\nb\n' },
        300,
      ),
      item({ type: 'tool_result', callId: 'c1', output: 'exit 0', isError: false }, 450),
    ].reduce(chatReducer, s);
    const tool = s.entries[0] as ToolEntry;
    expect(tool).toMatchObject({ status: 'ok', output: 'a\nb\n', exitCode: 0, done: true });
    expect(tool.endedAt! - tool.startedAt).toBe(450);
    expect(s.lastToolKey).toBe(tool.key);
    s = chatReducer(s, { type: 'expand' });
    expect(s.entries[1]).toMatchObject({ kind: 'block', title: 'shell $ ls', text: 'a\nb' });
  });

  it('marks a call refused by policy as denied, and a failing one as failed', () => {
    const s = fold(
      item({
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'shell',
        input: { command: 'rm' },
        status: 'pending',
      }),
      item({ type: 'policy_decision', callId: 'c1', verdict: 'deny', policies: ['no-rm'], reasons: ['no'] }),
      item({ type: 'tool_result', callId: 'c1', output: 'permission denied: no', isError: true }),
      item({
        type: 'tool_call',
        callId: 'c2',
        tool: 'shell',
        nativeTool: 'shell',
        input: { command: 'false' },
        status: 'pending',
      }),
      item({ type: 'tool_result', callId: 'c2', output: 'exit 1', isError: true }),
    );
    expect(s.entries.map((e) => (e as ToolEntry).status)).toEqual(['denied', 'failed']);
  });

  it('asks an approval until a decision arrives from anyone, then says who decided', () => {
    let s = fold(
      item({
        type: 'approval_request',
        approvalId: 'ap1',
        callId: 'c1',
        policy: 'ask-shell',
        reason: 'shell needs a human',
        options: ['approve', 'approve_session', 'deny'],
        canApproveForSession: true,
      }),
    );
    expect(pendingApproval(s)).toMatchObject({ approvalId: 'ap1', offersSession: true });
    s = chatReducer(
      s,
      item({ type: 'approval_decision', approvalId: 'ap1', decision: 'approve', actor: { id: 'u-bob', name: 'Bob' } }),
    );
    expect(pendingApproval(s)).toBeNull();
    expect(s.entries[0]).toMatchObject({ decision: 'approve', decidedBy: 'Bob', done: true });

    const plain = fold(
      item({ type: 'approval_request', approvalId: 'ap2', policy: 'p', reason: 'r', options: ['approve', 'deny'] }),
    );
    expect(pendingApproval(plain)?.offersSession).toBe(false);
  });

  it('closes what a cancelled turn left open and says it was cancelled', () => {
    const s = fold(
      item({ type: 'turn_started' }),
      { type: 'delta', delta: { type: 'agent_message_delta', turnId: 't1', streamId: 's9', text: 'partial' } },
      item({
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'shell',
        input: { command: 'sleep 9' },
        status: 'pending',
      }),
      { type: 'cancelling' },
      item({ type: 'turn_completed', stopReason: 'cancelled' }),
    );
    expect(s.isTurnRunning).toBe(false);
    expect(s.isCancelling).toBe(false);
    expect(s.entries.every((e) => e.done)).toBe(true);
    expect(s.entries.map((e) => e.kind)).toEqual(['agent', 'tool', 'note']);
    expect((s.entries[1] as ToolEntry).status).toBe('cancelled');
    expect(s.entries[2]).toMatchObject({ level: 'warning', text: 'turn cancelled' });
  });

  it('totals usage: metered at the proxy when there is any, else as reported', () => {
    let s = fold(
      item({ type: 'usage', model: 'm', inputTokens: 100, outputTokens: 20, cachedTokens: 0, costUsd: 0.5 }),
    );
    expect(usageTotals(s)).toEqual({ inputTokens: 100, outputTokens: 20, costUsd: 0.5 });
    s = chatReducer(
      s,
      item({
        type: 'metered_usage',
        provider: 'anthropic',
        api: 'anthropic-messages',
        host: 'api.anthropic.com',
        model: 'm',
        inputTokens: 90,
        outputTokens: 25,
        cacheReadTokens: 10,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costMicros: 600_000,
        priceVersion: 'v1',
        streamed: true,
      }),
    );
    expect(usageTotals(s)).toEqual({ inputTokens: 100, outputTokens: 25, costUsd: 0.6 });
  });

  it('keeps local notes and /harness, /model choices for the next prompt; a reset keeps the choices', () => {
    let s = fold(
      { type: 'note', level: 'info', text: 'hello' },
      { type: 'next', harness: 'codex' },
      { type: 'next', model: 'gpt-5' },
    );
    expect(s.entries[0]).toMatchObject({ kind: 'note', text: 'hello', done: true });
    expect([s.nextHarness, s.nextModel]).toEqual(['codex', 'gpt-5']);
    s = chatReducer(s, { type: 'reset' });
    expect(s.entries).toEqual([]);
    expect([s.nextHarness, s.nextModel]).toEqual(['codex', 'gpt-5']);
  });
});
