import type { ModelUsage } from './model';

/** List prices in USD per million tokens. `cachedInput` is the price of prompt-cache reads. */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput: number;
}

/**
 * Public list prices of a few well-known models, matched by the longest prefix of the model name (so dated
 * snapshots such as `claude-sonnet-4-20250514` or `gpt-4o-2024-08-06` match their family). Unknown models cost 0.
 */
const PRICES: Record<string, ModelPrice> = {
  'claude-opus-4-6': { input: 5, output: 25, cachedInput: 0.5 },
  'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-haiku-4': { input: 1, output: 5, cachedInput: 0.1 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
};

const PREFIXES = Object.keys(PRICES).sort((a, b) => b.length - a.length);

export function findModelPrice(model: string): ModelPrice | null {
  const name = model.toLowerCase();
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  return prefix ? PRICES[prefix] : null;
}

/** Cost in USD of one model call; 0 for models without a known price. */
export function costUsd(model: string, usage: ModelUsage): number {
  const price = findModelPrice(model);
  if (!price) return 0;
  const cached = Math.min(usage.cachedTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  const total = uncached * price.input + cached * price.cachedInput + usage.outputTokens * price.output;
  return Math.round((total / 1_000_000) * 1e8) / 1e8;
}
