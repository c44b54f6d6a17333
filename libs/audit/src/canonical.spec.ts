import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, canonicalJsonOfParsed, contentHash } from './canonical';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, drops whitespace, writes numbers the ECMAScript way', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], '€': 0, '\u0080': 1, A: { d: 1e21, c: 0.000001 } })).toBe(
      '{"A":{"c":0.000001,"d":1e+21},"a":[true,null,"x"],"b":1,"\u0080":1,"€":0}',
    );
    expect(canonicalJson({ '10': 1, '9': 2, a: -0 })).toBe('{"10":1,"9":2,"a":0}');
    expect(canonicalJson('\u2028"\\\n')).toBe('"\u2028\\"\\\\\\n"');
  });

  it('gives the same text by the fast path for anything JSON.parse returns', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const parsed: unknown = JSON.parse(text);
        expect(canonicalJsonOfParsed(parsed)).toBe(canonicalJson(parsed));
        // Already canonical text, parsed again: the fast path's own case.
        const again: unknown = JSON.parse(canonicalJson(parsed));
        expect(canonicalJsonOfParsed(again)).toBe(canonicalJson(parsed));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes content as lowercase hex SHA-256 of its canonical JSON', () => {
    expect(contentHash({ b: 2, a: 1 })).toBe(createHash('sha256').update('{"a":1,"b":2}').digest('hex'));
  });
});
