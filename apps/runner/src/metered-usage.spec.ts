import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { directLauncher, type HarnessAdapter } from '@yoke/harness';
import type { MeteredCall } from '@yoke/omnibox';
import { orgPriceTable, policyStack } from '@yoke/policy';
import {
  AgentSpec,
  type InboxEntry,
  type ItemBody,
  type ItemDraft,
  type PolicyEntryWire,
  type PriceTable,
  type SessionStartSpec,
} from '@yoke/protocol';
import { meteredItem, type SessionSandboxFactory } from './sandbox';
import { SessionSupervisor, type TurnResult } from './session-supervisor';

/**
 * A harness whose own cost figure cannot be trusted: each model call it makes is metered by the (simulated) egress
 * proxy at the provider's figures, while the harness reports what it likes. Cost policies must count the metered
 * figure; where there is no metering, the harness's report is all there is.
 */
const call = (outputTokens: number): MeteredCall => ({
  host: 'api.anthropic.com',
  port: 443,
  method: 'POST',
  path: '/v1/messages',
  status: 200,
  provider: 'anthropic',
  api: 'messages',
  model: 'claude-sonnet-4-5',
  streamed: true,
  inputTokens: 1000,
  outputTokens,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});

describe('cost policies count the metered figure', () => {
  const actor = { id: 'u1', name: 'Ada' };
  let results: TurnResult[];
  let sup: SessionSupervisor;
  let proxyRecord: ((body: ItemBody) => void) | null;

  /**
   * Each turn: three model calls of 1,000 input + 1,000 output tokens on claude-sonnet-4-5 (3,000 + 15,000 = 18,000
   * micro-dollars each), each followed by the harness's own report of `reportedUsd`.
   */
  let orgTable: PriceTable | null = null;
  const underReporter = (reportedUsd: number): HarnessAdapter => ({
    name: 'under-reporter',
    start: async (options) => ({
      runTurn: async () => {
        for (let i = 0; i < 3; i++) {
          proxyRecord?.(meteredItem(call(1000), orgTable));
          options.onEvent({
            kind: 'item',
            item: {
              type: 'usage',
              model: 'claude-sonnet-4-5',
              inputTokens: 1000,
              outputTokens: 1000,
              cachedTokens: 0,
              costUsd: reportedUsd,
            },
          });
          await new Promise((r) => setTimeout(r, 5));
        }
        options.onEvent({ kind: 'item', item: { type: 'agent_message', text: 'spent' } });
        return { stopReason: 'end_turn' };
      },
      cancel: () => undefined,
      close: async () => undefined,
    }),
  });

  const start = (adapter: HarnessAdapter, metered: boolean, org: PolicyEntryWire[] = []): void => {
    const dir = mkdtempSync(join(tmpdir(), 'yoke-metered-'));
    const spec: SessionStartSpec = {
      sessionId: randomUUID(),
      // A cap of 4 cents: the second metered call (3.6 cents) stays under, the third (5.4 cents) goes over.
      agent: AgentSpec.parse({
        name: 'a',
        prompt: 'p',
        model: 'claude-sonnet-4-5',
        policies: [{ type: 'cost_budget', name: 'cap', max: 0.04 }],
      }),
      harness: 'yoke',
      model: null,
      workspace: null,
      policies: org,
    };
    // As the runner's sandbox factory does: the org's own prices, from its policies.
    orgTable = orgPriceTable(policyStack(spec));
    const sandbox: SessionSandboxFactory = async (ctx) => {
      proxyRecord = metered ? ctx.record : null;
      return { launch: directLauncher, provider: {}, mode: 'none', allow: [], metered, close: async () => undefined };
    };
    sup = SessionSupervisor.create(spec, join(dir, 'ws'), {
      dir: join(dir, 'session'),
      adapterFor: () => adapter,
      provider: {},
      sandbox,
      permission: async () => ({ behavior: 'allow' }),
      onItems: () => undefined,
      onDelta: () => undefined,
      log: pino({ level: 'silent' }),
      onTurnEnd: (_id, result) => results.push(result),
    });
  };

  const send = async (text: string): Promise<TurnResult> => {
    const count = results.length;
    const entry: InboxEntry = {
      id: randomUUID(),
      sessionId: sup.sessionId,
      input: { kind: 'message', content: [{ type: 'text', text }], actor },
      createdAt: new Date().toISOString(),
    };
    sup.apply(entry);
    for (let i = 0; i < 400 && results.length === count; i++) await new Promise((r) => setTimeout(r, 5));
    return results[count];
  };
  const items = (): ItemDraft[] => sup.outbox.pending();

  beforeEach(() => {
    results = [];
    proxyRecord = null;
  });
  afterEach(() => sup.close());

  it.each([
    ['zero', 0],
    ['negative', -1],
  ])('stops a harness that reports %s cost at the cap, from the metered calls', async (_label, reported) => {
    start(underReporter(reported), true);
    const result = await send('spend');
    expect(result.ok).toBe(false);
    const log = items();
    expect(log.find((i) => i.type === 'turn_failed')).toMatchObject({ error: expect.stringMatching(/cap/) });
    const metered = log.filter((i) => i.type === 'metered_usage');
    expect(metered.map((m) => (m as { costMicros: number }).costMicros)).toEqual([18_000, 18_000, 18_000]);
    const deny = log.find((i) => i.type === 'policy_decision' && i.verdict === 'deny');
    expect(deny).toMatchObject({
      action: 'usage',
      reasons: ['cap: session spend $0.05 is at or over the cap of $0.04'],
    });
    // The turn's two figures disagree: the session says so, in so many words.
    const notice = log.find((i) => i.type === 'notice' && /egress proxy metered/.test(i.text));
    expect(notice).toMatchObject({ level: 'warning', text: expect.stringContaining('$0.054000') });
    expect(notice && (notice as { text: string }).text).toContain(
      reported < 0 ? 'an invalid (negative or non-numeric) cost' : '$0.000000',
    );
  });

  it('leaves no notice when the harness reports what was metered', async () => {
    start(underReporter(0.018), true);
    await send('spend');
    expect(items().some((i) => i.type === 'notice' && /egress proxy metered/.test(i.text))).toBe(false);
    // Three calls of 1.8 cents each still cross the 4 cent cap, counted once (metered), not twice.
    const decisions = items().filter((i) => i.type === 'policy_decision' && i.action === 'usage');
    expect(decisions.at(-1)).toMatchObject({
      verdict: 'deny',
      reasons: ['cap: session spend $0.05 is at or over the cap of $0.04'],
    });
  });

  it("counts the org's own prices, and compares the harness's list-price report at list prices", async () => {
    const prices: PolicyEntryWire = {
      level: 'org',
      origin: 'policies#1',
      spec: {
        type: 'price_table',
        version: 'acme-1',
        models: [{ match: 'claude-sonnet-4*', input: 1_500_000, output: 7_500_000, cache_read: 0, cache_write: 0 }],
      },
    };
    start(underReporter(0.018), true, [prices]);
    // Three calls at half the list price are 2.7 cents: under the 4 cent cap.
    expect(await send('spend')).toMatchObject({ ok: true, text: 'spent' });
    const metered = items().filter((i) => i.type === 'metered_usage');
    expect(
      metered.map((m) => [(m as { costMicros: number }).costMicros, (m as { priceVersion: string }).priceVersion]),
    ).toEqual([
      [9_000, 'acme-1'],
      [9_000, 'acme-1'],
      [9_000, 'acme-1'],
    ]);
    expect(items().some((i) => i.type === 'notice' && /egress proxy metered/.test(i.text))).toBe(false);
  });

  it("counts the harness's report where nothing is metered", async () => {
    start(underReporter(0), false);
    expect(await send('spend')).toMatchObject({ ok: true, text: 'spent' });
    expect(items().some((i) => i.type === 'metered_usage')).toBe(false);
    expect(items().some((i) => i.type === 'policy_decision' && i.verdict === 'deny')).toBe(false);
  });
});
