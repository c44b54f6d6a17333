import { PRICE_TABLE, priceCallFor } from '@yoke/protocol';
import { orgPriceTable } from './engine';
import type { PolicyEntry } from './types';
import { parsePolicyYaml } from './yaml';

const entry = (level: PolicyEntry['level'], spec: Record<string, unknown>): PolicyEntry =>
  ({ level, origin: `${level}#1`, spec }) as PolicyEntry;

const ACME = {
  type: 'price_table',
  version: 'acme-2026-12',
  models: [{ match: 'claude-sonnet-4*', input: 1_500_000, output: 7_500_000, cache_read: 150_000, cache_write: 0 }],
};
const tokens = { inputTokens: 1000, outputTokens: 1000, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe("the org's own prices", () => {
  it('price the models they match, and leave the others to the price table', () => {
    const table = orgPriceTable([entry('org', ACME)]);
    expect(priceCallFor('claude-sonnet-4-5', tokens, table)).toEqual({
      costMicros: 9_000,
      priceVersion: 'acme-2026-12',
    });
    expect(priceCallFor('gpt-5', tokens, table)).toEqual({ costMicros: 11_250, priceVersion: PRICE_TABLE.version });
    expect(priceCallFor('claude-sonnet-4-5', tokens, null)).toEqual({
      costMicros: 18_000,
      priceVersion: PRICE_TABLE.version,
    });
  });

  it('come from org policies only: an agent or a session cannot set its own prices', () => {
    expect(orgPriceTable([])).toBeNull();
    expect(orgPriceTable([entry('agent', ACME), entry('session', ACME)])).toBeNull();
  });

  it('are integers in micro-dollars per million tokens, refused otherwise', () => {
    const yaml = (input: string) =>
      `- { type: price_table, version: v1, models: [{ match: "m*", input: ${input}, output: 1, cache_read: 1, cache_write: 1 }] }\n`;
    expect(parsePolicyYaml(yaml('3000000'), 'org.yaml')).toMatchObject({ ok: true });
    expect(parsePolicyYaml(yaml('3.5'), 'org.yaml')).toMatchObject({ ok: false });
    expect(parsePolicyYaml(yaml('-1'), 'org.yaml')).toMatchObject({ ok: false });
    expect(parsePolicyYaml('- { type: price_table, version: v1, models: [] }\n', 'org.yaml')).toMatchObject({
      ok: false,
    });
  });
});
