import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEventsPage, BudgetList, BudgetView, Item, Session } from '@yoke/protocol';
import { testAcpAgentHarness } from '../fixtures/acp-agent';
import { type FakeModel, type FakeModelStep, startFakeModel } from '../fixtures/fake-model';
import { createTestDatabase, expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * A monthly org budget against a real sandboxed harness and the fake model (team mode): each model call of
 * 4,000 input + 500 output tokens on gpt-5.5 is metered at 4000×1.25 + 500×10 = 10,000 micro-dollars. With a cap of
 * 15,000, the first call crosses 50%, the second reaches the cap: the session is paused with an approval request
 * naming the budget, the next tool call does not run until someone approves, and the audit log has the threshold and
 * the cap.
 */
describe('monthly budgets hold a session at the cap (team mode)', () => {
  let model: FakeModel;
  let stack: Stack;
  let db: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    model = await startFakeModel();
    db = await createTestDatabase();
    stack = await startStack('team', { DATABASE_URL: db.url });
    await stack.startRunner({
      env: {
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        OPENAI_BASE_URL: model.openaiBaseUrl,
        OPENAI_API_KEY: 'test-key',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
    await db?.drop();
  });

  async function items(sessionId: string): Promise<Item[]> {
    const r = await stack.api<{ items: Item[] }>('GET', `/sessions/${sessionId}/items?afterSeq=0`);
    expect(r.status).toBe(200);
    return r.body.items;
  }

  async function auditEvents(action: string) {
    const r = await stack.api<AuditEventsPage>('GET', `/audit/events?action=${action}&limit=500`);
    expect(r.status).toBe(200);
    return r.body.events.map((e) => e.event);
  }

  it('pauses the session for confirmation at the cap; the next tool call waits until approved', async () => {
    const created = await stack.api<BudgetView>('POST', '/org/budgets', {
      scope: 'org',
      capMicros: 15_000,
      alertAt: [50, 100],
    });
    expect(created.status).toBe(201);
    const budget = created.body;

    const usage = { inputTokens: 4000, outputTokens: 500 };
    const tool = (f: string): FakeModelStep => ({
      toolCalls: [{ name: 'shell', input: { command: `echo ${f} > ${f}.txt` } }],
      usage,
    });
    // The third answer waits for the test: by then the hold has surely arrived (it follows the second call).
    model.script([
      {
        match: 'BUDGET-CAP',
        steps: [tool('a'), tool('b'), { ...tool('c'), holdUntil: 'third' }, { text: 'done', usage }],
      },
    ]);
    const ws = tempDir('ws');
    const agentYaml =
      `name: budgeted\nprompt: You are a careful coding assistant.\nharness: ${testAcpAgentHarness()}\n` +
      'model: gpt-5.5\ntools: { shell: true, files: true }\n';
    const session = await stack.api<Session>('POST', '/sessions', {
      agentYaml,
      prompt: 'BUDGET-CAP go',
      workspace: ws,
    });
    expect(session.status).toBe(201);
    const id = session.body.id;

    // Paused: an approval request of the usage kind, naming the budget.
    let request: Extract<Item, { type: 'approval_request' }> | undefined;
    await expectEventually(async () => {
      request = (await items(id)).find(
        (i): i is Extract<Item, { type: 'approval_request' }> =>
          i.type === 'approval_request' && i.policy === 'budget:org',
      );
      return request !== undefined;
    }, 120_000);
    expect(request).toMatchObject({
      subject: 'usage',
      reason: expect.stringMatching(/monthly budget budget:org: \$0\.02 of \$0\.015 spent in \d{4}-\d{2}/),
    });
    const listed = await stack.api<BudgetList>('GET', '/org/budgets');
    expect(listed.body.budgets.find((b) => b.id === budget.id)).toMatchObject({
      spentMicros: 20_000,
      percent: 133,
      crossed: [50, 100],
    });

    // The model's next answer asks for a tool: it does not run while the session is paused.
    model.release('third');
    await new Promise((r) => setTimeout(r, 2000));
    expect(existsSync(join(ws, 'a.txt'))).toBe(true);
    expect(existsSync(join(ws, 'c.txt'))).toBe(false);
    expect((await items(id)).some((i) => i.type === 'turn_completed' || i.type === 'turn_failed')).toBe(false);

    const approved = await stack.api('POST', `/sessions/${id}/approvals/${request!.approvalId}`, {
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    await expectEventually(async () => (await items(id)).some((i) => i.type === 'turn_completed'), 120_000);
    expect(existsSync(join(ws, 'c.txt'))).toBe(true);
    const log = await items(id);
    expect(log.find((i) => i.type === 'turn_failed')).toBeUndefined();
    // Asked once for this budget and month, though the session spent on past the cap.
    expect(log.filter((i) => i.type === 'approval_request' && i.policy === 'budget:org')).toHaveLength(1);

    const crossed = (await auditEvents('budget.threshold_crossed')).filter((e) => e.details.budgetId === budget.id);
    expect(crossed.map((e) => Number(e.details.threshold)).sort((a, b) => a - b)).toEqual([50, 100]);
    const capped = (await auditEvents('budget.cap_reached')).filter((e) => e.details.budgetId === budget.id);
    expect(capped).toHaveLength(1);
    expect(capped[0]).toMatchObject({
      sessionId: id,
      target: { kind: 'budget', id: budget.id },
      details: { scope: 'org', spentMicros: 20_000, capMicros: 15_000 },
    });
  });
});
