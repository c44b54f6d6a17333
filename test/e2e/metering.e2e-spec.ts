import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { AuditEventsPage, Item, Session } from '@yoke/protocol';
import { testAcpAgentHarness } from '../fixtures/acp-agent';
import { type FakeModel, type FakeModelStep, startFakeModel } from '../fixtures/fake-model';
import { createTestDatabase, expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * Cost the harness cannot misreport: real harnesses run sandboxed against the fake model, and the egress proxy reads
 * each call's usage from the provider's own response. The expected micro-dollars are worked out by hand here from
 * the scripted usage and the 2026-12-05 list prices (claude-sonnet-4*: $3 in, $15 out, $0.30 cache read per MTok;
 * gpt-5*: $1.25 in, $10 out), so a wrong price, token kind or rounding shows.
 */

type Metered = Extract<Item, { type: 'metered_usage' }>;

const agentYaml = (harness: string, model: string, policies = '') =>
  `name: metered\nprompt: You are a careful coding assistant.\nharness: ${harness}\nmodel: ${model}\n` +
  `tools: { shell: true, files: true }\n${policies}`;

const named =
  (name: string, input: (command: string) => unknown) =>
  (command: string): FakeModelStep => ({ toolCalls: [{ name, input: input(command) }] });

const HARNESSES = [
  { label: 'yoke', harness: 'yoke', shell: named('shell', (command) => ({ command })) },
  {
    label: 'claude-code',
    harness: 'claude-code',
    shell: named('Bash', (command) => ({ command, description: 'write the file' })),
  },
  { label: 'codex', harness: 'codex', shell: named('exec_command', (cmd) => ({ cmd })) },
];

/** Scripted usage of the two calls of each turn, and their cost on claude-sonnet-4-5 in micro-dollars. */
const FIRST = { inputTokens: 1500, outputTokens: 220, cachedTokens: 300 }; // 1200×3 + 300×0.3 + 220×15 = 6,990
const SECOND = { inputTokens: 2100, outputTokens: 40, cachedTokens: 0 }; // 2100×3 + 40×15 = 6,900

describe('metered at the egress proxy (team mode)', () => {
  let model: FakeModel;
  let stack: Stack;
  let db: { url: string; drop(): Promise<void> };
  let pg: Client;

  beforeAll(async () => {
    model = await startFakeModel();
    db = await createTestDatabase();
    stack = await startStack('team', { DATABASE_URL: db.url });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
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
    await pg?.end();
    await stack?.stop();
    await model?.close();
    await db?.drop();
  });

  async function items(sessionId: string): Promise<Item[]> {
    const r = await stack.api<{ items: Item[] }>('GET', `/sessions/${sessionId}/items?afterSeq=0`);
    expect(r.status).toBe(200);
    return r.body.items;
  }

  async function runTurn(agent: string, prompt: string, workspace: string): Promise<{ id: string; log: Item[] }> {
    const created = await stack.api<Session>('POST', '/sessions', { agentYaml: agent, prompt, workspace });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await expectEventually(
      async () => (await items(id)).some((i) => i.type === 'turn_completed' || i.type === 'turn_failed'),
      180_000,
    );
    return { id, log: await items(id) };
  }

  it.each(HARNESSES.map((h) => [h.label, h] as const))(
    '%s: each model call is metered from the response at the price table, to the micro-dollar',
    async (label, target) => {
      const token = `METER-${label}`;
      model.script([
        {
          match: token,
          steps: [
            { ...target.shell(`echo ${label} > out.txt`), usage: FIRST },
            { text: 'Wrote out.txt.', usage: SECOND },
          ],
        },
      ]);
      const { id, log } = await runTurn(agentYaml(target.harness, 'claude-sonnet-4-5'), `${token}: go`, tempDir('ws'));
      expect(log.find((i) => i.type === 'turn_failed')).toBeUndefined();

      const metered = log.filter((i): i is Metered & Item => i.type === 'metered_usage');
      const first = metered.filter((m) => m.inputTokens === 1200 && m.cacheReadTokens === 300);
      const second = metered.filter((m) => m.inputTokens === 2100 && m.outputTokens === 40);
      expect(first).toHaveLength(1);
      expect(second).toHaveLength(1);
      expect(first[0]).toMatchObject({
        model: 'claude-sonnet-4-5',
        outputTokens: 220,
        cacheWriteTokens: 0,
        costMicros: 6_990,
        priceVersion: '2026-12-05',
        streamed: true,
      });
      expect(second[0]).toMatchObject({ cacheReadTokens: 0, costMicros: 6_900 });
      expect(first[0].requestId).toBeTruthy();

      // Stored as per-call facts with the session, the harness and whose spend it is, exactly as the items say.
      const rows = await pg.query<{ item_seq: number; cost_micros: string; harness: string; user_id: string }>(
        'SELECT item_seq, cost_micros, harness, user_id FROM metered_usage WHERE session_id = $1 ORDER BY item_seq',
        [id],
      );
      expect(rows.rows.map((r) => [r.item_seq, Number(r.cost_micros)])).toEqual(
        metered.map((m) => [m.seq, m.costMicros]),
      );
      expect(new Set(rows.rows.map((r) => r.harness))).toEqual(new Set([target.harness]));
      const [owner] = (await pg.query<{ owner_id: string }>('SELECT owner_id FROM sessions WHERE id = $1', [id])).rows;
      expect(new Set(rows.rows.map((r) => r.user_id))).toEqual(new Set([owner.owner_id]));
    },
  );

  it("prices at the org's own rates where its price_table has the model, and compares the report at list prices", async () => {
    // gpt-5* at half the list price: 4,000 in + 500 out is 4000×0.625 + 500×5 = 5,000 micro-dollars (list: 10,000).
    const yaml =
      '- type: price_table\n  version: acme-2026-12\n  models:\n' +
      '    - { match: "gpt-5*", input: 625000, output: 5000000, cache_read: 62500, cache_write: 625000 }\n';
    expect((await stack.api('PUT', '/policies', { yaml })).status).toBe(200);
    try {
      model.script([
        {
          match: 'ORG-PRICE',
          steps: [
            {
              toolCalls: [{ name: 'shell', input: { command: 'echo x > x.txt' } }],
              usage: { inputTokens: 4000, outputTokens: 500 },
            },
            { text: 'done', usage: { inputTokens: 4000, outputTokens: 500 } },
          ],
        },
      ]);
      const { id, log } = await runTurn(agentYaml(testAcpAgentHarness(), 'gpt-5.5'), 'ORG-PRICE go', tempDir('ws'));
      expect(log.find((i) => i.type === 'turn_completed')).toBeDefined();
      const metered = log.filter((i): i is Metered & Item => i.type === 'metered_usage');
      expect(metered.map((m) => [m.costMicros, m.priceVersion])).toEqual([
        [5_000, 'acme-2026-12'],
        [5_000, 'acme-2026-12'],
      ]);
      const rows = await pg.query<{ cost: string }>(
        'SELECT sum(cost_micros) AS cost FROM metered_usage WHERE session_id = $1',
        [id],
      );
      expect(Number(rows.rows[0].cost)).toBe(10_000);
      // The harness reported list prices truthfully: no notice, no audit event.
      expect(log.some((i) => i.type === 'notice' && /egress proxy metered/.test(i.text))).toBe(false);
      const audit = await stack.api<AuditEventsPage>('GET', `/audit/events?action=usage.mismatch&sessionId=${id}`);
      expect(audit.body.events).toEqual([]);
    } finally {
      expect((await stack.api('PUT', '/policies', { yaml: '' })).status).toBe(200);
    }
  });

  it('stops a harness that reports zero cost at the cap, from the metered figure, and audits the gap', async () => {
    // The test ACP agent, told to report $0 whatever it spends; three calls of 4,000 in + 500 out on gpt-5.5 are
    // 4000×1.25 + 500×10 = 10,000 micro-dollars each. The cap of $0.025 is crossed by the third.
    const steps = ['a', 'b', 'c'].map((f): FakeModelStep => ({
      toolCalls: [{ name: 'shell', input: { command: `echo ${f} > ${f}.txt` } }],
      usage: { inputTokens: 4000, outputTokens: 500 },
    }));
    model.script([{ match: 'SPEND-ZERO', steps: [...steps, { text: 'done' }] }]);
    const ws = tempDir('ws');
    const harness = testAcpAgentHarness(['--report-cost=0']);
    const policies = 'policies:\n  - { type: cost_budget, name: cap, max: 0.025 }\n';
    const { id, log } = await runTurn(agentYaml(harness, 'gpt-5.5', policies), 'SPEND-ZERO please', ws);

    const failed = log.find((i) => i.type === 'turn_failed');
    expect(failed).toMatchObject({
      error: expect.stringMatching(/stopped by policy: .*session spend \$0\.03 is at or over the cap/),
    });
    expect(existsSync(join(ws, 'a.txt'))).toBe(true);
    expect(existsSync(join(ws, 'b.txt'))).toBe(true);
    expect(existsSync(join(ws, 'c.txt'))).toBe(false);
    const metered = log.filter((i): i is Metered & Item => i.type === 'metered_usage');
    expect(metered.map((m) => m.costMicros)).toEqual([10_000, 10_000, 10_000]);
    const reported = log.filter((i) => i.type === 'usage') as (Item & { costUsd: number })[];
    expect(reported.every((u) => u.costUsd === 0)).toBe(true);
    expect(log.find((i) => i.type === 'notice' && /egress proxy metered \$0\.030000/.test(i.text))).toBeDefined();

    // The compliance record: the turn's reported and metered figures, side by side.
    const audit = await stack.api<AuditEventsPage>('GET', `/audit/events?action=usage.mismatch&sessionId=${id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.events).toHaveLength(1);
    expect(audit.body.events[0].event).toMatchObject({
      action: 'usage.mismatch',
      outcome: 'failed',
      details: { reportedMicros: 0, meteredMicros: 30_000, meteredCalls: 3 },
    });
  });
});
