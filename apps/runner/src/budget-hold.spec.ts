import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { HarnessAdapter } from '@yoke/harness';
import { AgentSpec, type InboxInput, type ItemDraft, type SessionStartSpec } from '@yoke/protocol';
import { SessionSupervisor, type TurnResult } from './session-supervisor';

/**
 * A monthly budget reached its cap on the server, which sends the session a `budget_hold`: the session pauses with an
 * approval request naming the budget; the harness's next tool call waits for a human; confirmed, it runs; refused,
 * the turn stops and the tool never runs.
 */
describe('a budget hold pauses the session until a human confirms', () => {
  const actor = { id: 'u1', name: 'Ada' };
  const budgetId = randomUUID();
  const policy = 'budget:org';
  let sup: SessionSupervisor;
  let results: TurnResult[];
  let ran: string[];
  /** Resolves the harness's "model call": after it, the harness asks to run a tool. */
  let release: (() => void) | undefined;

  /** One turn: a model call (held until the test releases it), then a shell tool call through the permission hook. */
  const harness: HarnessAdapter = {
    name: 'tool-user',
    start: async (options) => ({
      runTurn: async () => {
        await new Promise<void>((r) => (release = r));
        const callId = `c${ran.length + 1}`;
        const verdict = await options.permission({
          callId,
          tool: 'shell',
          nativeTool: 'Bash',
          input: { command: 'echo hi' },
        });
        if (verdict.behavior === 'allow') ran.push(callId);
        options.onEvent({ kind: 'item', item: { type: 'agent_message', text: verdict.behavior } });
        return { stopReason: 'end_turn' };
      },
      cancel: () => release?.(),
      close: async () => undefined,
    }),
  };

  const apply = (input: InboxInput) =>
    sup.apply({ id: randomUUID(), sessionId: sup.sessionId, input, createdAt: new Date().toISOString() });
  const items = (): ItemDraft[] => sup.outbox.pending();
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 400; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const approvalRequest = () =>
    items().filter((i): i is Extract<ItemDraft, { type: 'approval_request' }> => i.type === 'approval_request');

  beforeEach(() => {
    results = [];
    ran = [];
    release = undefined;
    const dir = mkdtempSync(join(tmpdir(), 'yoke-budget-hold-'));
    const spec: SessionStartSpec = {
      sessionId: randomUUID(),
      agent: AgentSpec.parse({ name: 'a', prompt: 'p', model: 'claude-sonnet-4-5' }),
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
      onDelta: () => undefined,
      log: pino({ level: 'silent' }),
      onTurnEnd: (_id, result) => results.push(result),
    });
  });
  afterEach(() => sup.close());

  /** A turn that is past its model call's start, then the server's hold. */
  async function holdDuringTurn() {
    apply({ kind: 'message', content: [{ type: 'text', text: 'work' }], actor });
    await until(() => typeof release === 'function', 'the model call');
    expect(
      apply({
        kind: 'budget_hold',
        budgetId,
        month: '2026-12',
        policy,
        reason: 'monthly budget budget:org: $0.05 of $0.04 spent in 2026-12 (the cap is reached); confirm to go on',
      }),
    ).toBe(true);
    await until(() => approvalRequest().length === 1, 'the approval request');
    const [request] = approvalRequest();
    expect(request).toMatchObject({ subject: 'usage', policy, reason: expect.stringContaining('cap is reached') });
    // The model answers; the harness asks for its tool: it waits for the human.
    release!();
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toEqual([]);
    expect(results).toEqual([]);
    return request.approvalId;
  }

  it('confirmed: the waiting tool call runs and the turn completes; the same hold is not asked again', async () => {
    const approvalId = await holdDuringTurn();
    apply({ kind: 'approval', approvalId, decision: 'approve', actor });
    await until(() => results.length === 1, 'the end of the turn');
    expect(results[0]).toEqual({ ok: true, text: 'allow' });
    expect(ran).toEqual(['c1']);
    // The same budget and month again (a redelivery under another id): no second question.
    apply({ kind: 'budget_hold', budgetId, month: '2026-12', policy, reason: 'again' });
    await new Promise((r) => setTimeout(r, 20));
    expect(approvalRequest()).toHaveLength(1);
  });

  it('refused: the turn stops, the tool never runs, and the next prompt asks again', async () => {
    const approvalId = await holdDuringTurn();
    apply({ kind: 'approval', approvalId, decision: 'deny', actor });
    await until(() => results.length === 1, 'the end of the turn');
    expect(results[0]).toEqual({
      ok: false,
      error: `stopped by policy: monthly budget ${policy} not confirmed (deny)`,
    });
    expect(ran).toEqual([]);
    expect(items().find((i) => i.type === 'turn_failed')).toMatchObject({
      error: expect.stringContaining('not confirmed'),
    });
    // The next prompt asks again before anything runs.
    apply({ kind: 'message', content: [{ type: 'text', text: 'more' }], actor });
    await until(() => approvalRequest().length === 2, 'the second approval request');
    apply({ kind: 'approval', approvalId: approvalRequest()[1].approvalId, decision: 'deny', actor });
    await until(() => results.length === 2, 'the end of the second turn');
    expect(results[1]).toEqual({ ok: false, error: `monthly budget ${policy} not confirmed (deny)` });
    expect(ran).toEqual([]);
  });
});
