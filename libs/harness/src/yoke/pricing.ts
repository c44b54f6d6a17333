import { findPrice } from '@yoke/protocol';
import type { ModelUsage } from './model';

/** List prices in USD per million tokens. `cachedInput` is the price of prompt-cache reads. */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput: number;
}

/**
 * The price of a model from Yoke's one price table (`PRICE_TABLE` in @yoke/protocol, which the egress proxy's
 * metering uses too), matched by the longest prefix of the model name (so dated snapshots such as
 * `claude-sonnet-4-20250514` match their family). Unknown models have none.
 */
export function findModelPrice(model: string): ModelPrice | null {
  const row = findPrice(model);
  return row ? { input: row.input / 1e6, output: row.output / 1e6, cachedInput: row.cacheRead / 1e6 } : null;
}

/** Cost in USD of one model call as the harness reports it; 0 for models without a known price. */
export function costUsd(model: string, usage: ModelUsage): number {
  const price = findModelPrice(model);
  if (!price) return 0;
  const cached = Math.min(usage.cachedTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  const total = uncached * price.input + cached * price.cachedInput + usage.outputTokens * price.output;
  return Math.round((total / 1_000_000) * 1e8) / 1e8;
}
