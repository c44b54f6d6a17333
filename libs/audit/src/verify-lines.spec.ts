import fc from 'fast-check';
import { LineBatcher, LineSplitter, LineTooLong, MAX_LINE } from './verify-lines';

/** `text` cut into chunks at `cuts` (byte offsets). */
function chunks(text: string, cuts: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(start, c));
    start = c;
  }
  return out;
}

const lines = fc.array(
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')),
  {
    maxLength: 30,
  },
);

describe('LineSplitter', () => {
  it('gives the same lines however the bytes are cut, multi-byte characters included', () => {
    fc.assert(
      fc.property(lines, fc.array(fc.nat(), { maxLength: 20 }), fc.string({ maxLength: 5 }), (ls, cuts, tail) => {
        const text = ls.map((l) => `${l}\n`).join('') + tail.replace(/\n/g, '');
        const got: string[] = [];
        const splitter = new LineSplitter((line) => got.push(line));
        for (const c of chunks(text, cuts)) splitter.data(c);
        expect(got).toEqual(ls);
        expect(splitter.end()).toBe(tail.replace(/\n/g, ''));
      }),
    );
  });

  it('refuses an endless line without buffering it whole', () => {
    const splitter = new LineSplitter(() => undefined);
    const chunk = Buffer.alloc(1 << 16, 0x61);
    expect(() => {
      for (let i = 0; i <= MAX_LINE / chunk.length; i++) splitter.data(chunk);
    }).toThrow(LineTooLong);
  });
});

describe('LineBatcher', () => {
  it('hands on whole lines only, all of them, in order', () => {
    fc.assert(
      fc.property(lines, fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (ls, cuts, size) => {
        const text = ls.map((l) => `${l}\n`).join('');
        const batches: Buffer[] = [];
        const batcher = new LineBatcher(size, (b) => batches.push(Buffer.from(b)));
        for (const c of chunks(`${text}rest`, cuts)) batcher.data(c);
        expect(batcher.end().toString('utf8')).toBe('rest');
        expect(batches.every((b) => b[b.length - 1] === 10)).toBe(true);
        expect(Buffer.concat(batches).toString('utf8')).toBe(text);
      }),
    );
  });
});
