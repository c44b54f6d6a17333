import fc from 'fast-check';
import { stringify } from 'yaml';
import { nestingDepth, parseYamlDocument, type YamlReadOptions } from './index';

const OPTIONS: YamlReadOptions = { what: 'test file', maxLength: 256 * 1024, maxDepth: 64, maxAliases: 100 };

const refusalOf = (text: string, options = OPTIONS) => {
  const r = parseYamlDocument(text, options);
  if (r.ok) throw new Error('expected a refusal');
  return r.refusal;
};

/** "Billion laughs": nine aliases, each of the one before nine times, 9^9 strings once expanded. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`),
  '',
].join('\n');

describe('parseYamlDocument', () => {
  it('returns the document, its line counter and its value', () => {
    const r = parseYamlDocument('name: &n a\nlist: [*n, *n]\n', OPTIONS);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({ name: 'a', list: ['a', 'a'] });
    expect(r.doc.errors).toEqual([]);
    expect(r.lineCounter.linePos(12)).toEqual({ line: 2, col: 2 });
  });

  it('leaves syntax errors in the document, with no value', () => {
    const r = parseYamlDocument('a: [1,\n  b: : x\n', OPTIONS);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.doc.errors.length).toBeGreaterThan(0);
    expect(r.value).toBeUndefined();
  });

  it('refuses an alias bomb, in a mapping or in a sequence', () => {
    const inSequence = ['- &b0 ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      inSequence.push(
        `- &b${i} [${Array(10)
          .fill(`*b${i - 1}`)
          .join(',')}]`,
      );
    for (const bomb of [ALIAS_BOMB, `${inSequence.join('\n')}\n`]) {
      expect(refusalOf(bomb)).toEqual({
        kind: 'alias_bomb',
        message: 'test file expands aliases more than 100 times (an alias bomb?)',
      });
    }
  });

  it('refuses a document over the size limit before parsing it', () => {
    expect(refusalOf(`a: "${'x'.repeat(OPTIONS.maxLength)}"\n`)).toEqual({
      kind: 'too_large',
      message: 'test file is too large (262150 characters; the limit is 262144)',
    });
    expect(refusalOf('a: [[1]]\n', { ...OPTIONS, maxLength: 8 }).kind).toBe('too_large');
  });

  it.each([
    ['flow sequences', (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}\n`],
    ['flow mappings', (n: number) => `a: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`],
    ['compact sequences', (n: number) => `a:\n${'- '.repeat(n)}x\n`],
    [
      'indented mappings',
      (n: number) => Array.from({ length: Math.min(n, 700) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
    ],
    ['an unclosed flow', (n: number) => `a: ${'['.repeat(n)}\n`],
  ])('refuses deep %s quickly, again and again (the composer would overflow the stack)', (_, deep) => {
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      for (const n of [65, 1_500, 100_000]) {
        expect(refusalOf(deep(n).slice(0, OPTIONS.maxLength))).toEqual({
          kind: 'too_deep',
          message: 'test file nests collections more than 64 levels deep',
        });
      }
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('accepts nesting up to the limit', () => {
    const text = `a: { x: { y: ${'['.repeat(61)}${']'.repeat(61)} } }\n`;
    expect(nestingDepth(text, 64)).toBe(64);
    expect(parseYamlDocument(text, OPTIONS).ok).toBe(true);
    expect(refusalOf(text, { ...OPTIONS, maxDepth: 63 }).kind).toBe('too_deep');
  });
});

describe('nestingDepth', () => {
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;

  it.each([
    ['a: 1\nb: 2\n', 1],
    ['a:\n  b:\n    c: 1\n', 3],
    ['a:\n- 1\n- 2\nb: 3\n', 2],
    ['a:\n- b:\n  - c\n', 4],
    ['- - - x\n', 3],
    ['a: [1, {b: [c]}]\n', 4],
    ['policies:\n  - type: after\n    then: { tool: shell, match: "[[[[" }\n', 4],
    ['a: |\n  [[[[\n  - - -\nb:\n  c: "[[[["\n', 2],
    ['? a\n: b\n', 1],
    ['# [[[[\na: 1 # {{{{\n', 1],
  ])('counts %j as %i', (text, depth) => {
    expect(nestingDepth(text, 100)).toBe(depth);
  });

  it('gives up once past the limit', () => {
    expect(nestingDepth(`${'['.repeat(100_000)}`, 10)).toBe(11);
  });

  it('never counts less than the depth of what the document holds, in any style', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.boolean(), fc.constantFrom(1, 2, 4), (v, flow, indent) => {
        const text = stringify(v, { indent, collectionStyle: flow ? 'flow' : 'block' });
        expect(nestingDepth(text, 1_000)).toBeGreaterThanOrEqual(depthOf(v));
      }),
      { numRuns: 500 },
    );
  });
});
