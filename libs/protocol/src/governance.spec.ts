import fc from 'fast-check';
import { findPrice, PRICE_TABLE, priceCall, usageMismatch } from './governance';

const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('the price table', () => {
  it('matches the longest prefix, so a dated snapshot is priced as its family and a cheaper sibling is not', () => {
    expect(findPrice('claude-sonnet-4-5-20250929')?.match).toBe('claude-sonnet-4*');
    expect(findPrice('gpt-5-mini-2025-08-07')?.match).toBe('gpt-5-mini*');
    expect(findPrice('gpt-5.5')?.match).toBe('gpt-5*');
    expect(findPrice('claude-opus-4-5')?.match).toBe('claude-opus-4-5*');
    expect(findPrice('claude-opus-4-1')?.match).toBe('claude-opus-4*');
    expect(findPrice('llama-3')).toBeNull();
  });

  it('prices every kind of token at its own rate, in integer micro-dollars', () => {
    // claude-sonnet-4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens.
    expect(priceCall('claude-sonnet-4-5', { ...zero, inputTokens: 1_000_000 })).toEqual({
      costMicros: 3_000_000,
      priceVersion: PRICE_TABLE.version,
    });
    expect(priceCall('claude-sonnet-4-5', { ...zero, outputTokens: 1 }).costMicros).toBe(15);
    expect(priceCall('claude-sonnet-4-5', { ...zero, cacheReadTokens: 10 }).costMicros).toBe(3);
    expect(priceCall('claude-sonnet-4-5', { ...zero, cacheWriteTokens: 4 }).costMicros).toBe(15);
    expect(
      priceCall('claude-sonnet-4-5', {
        inputTokens: 1200,
        outputTokens: 220,
        cacheReadTokens: 300,
        cacheWriteTokens: 0,
      }).costMicros,
    ).toBe(6_990);
  });

  it('rounds half up once per call, never to a float', () => {
    // gpt-5-nano input is $0.05 / MTok: 10 tokens are 0.5 micro-dollars, 9 are 0.45.
    expect(priceCall('gpt-5-nano', { ...zero, inputTokens: 10 }).costMicros).toBe(1);
    expect(priceCall('gpt-5-nano', { ...zero, inputTokens: 9 }).costMicros).toBe(0);
    fc.assert(
      fc.property(
        fc.record({
          inputTokens: fc.nat(50_000_000),
          outputTokens: fc.nat(5_000_000),
          cacheReadTokens: fc.nat(50_000_000),
          cacheWriteTokens: fc.nat(5_000_000),
        }),
        fc.constantFrom(...PRICE_TABLE.models.map((m) => m.match.replace('*', '-x'))),
        (tokens, model) => {
          const { costMicros } = priceCall(model, tokens);
          expect(Number.isSafeInteger(costMicros)).toBe(true);
          expect(costMicros).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300, seed: 20261205 },
    );
  });

  it('leaves an unknown model unpriced rather than guessing', () => {
    expect(priceCall('mystery', { ...zero, inputTokens: 1000 })).toEqual({ costMicros: 0, priceVersion: 'unpriced' });
  });

  it('publishes versioned, integer prices', () => {
    for (const m of PRICE_TABLE.models) {
      for (const v of [m.input, m.output, m.cacheRead, m.cacheWrite]) expect(Number.isSafeInteger(v)).toBe(true);
    }
    expect(PRICE_TABLE.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('reported against metered', () => {
  it('tolerates rounding, not under-reporting', () => {
    expect(usageMismatch(6_990, 6_990)).toBe(false);
    expect(usageMismatch(6_995, 6_990)).toBe(false); // 5 micro-dollars: rounding
    expect(usageMismatch(0, 30_000)).toBe(true);
    expect(usageMismatch(29_000, 30_000)).toBe(true); // 3.3%
    expect(usageMismatch(29_500, 30_000)).toBe(false); // 1.7%
    expect(usageMismatch(-1, 0)).toBe(true);
  });
});
