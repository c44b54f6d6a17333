import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  batchProof,
  consistencyProof,
  EMPTY_ROOT,
  flatPrefixRoots,
  flatTreeHash,
  Frontier,
  type LeafRange,
  leafHash,
  nodeHash,
  ProofError,
  rootFromBatch,
  StreamingTree,
  type SubtreeHasher,
  verifyConsistency,
} from './merkle';

const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

/** RFC 6962 §2.1 MTH, written straight from its definition. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const leavesOf = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));
const hasherOf =
  (leaves: Buffer[]): SubtreeHasher =>
  async (lo, hi) =>
    mth(leaves.slice(lo, hi));

function flatLeaves(leaves: Buffer[], ranges: LeafRange[]): Buffer {
  return Buffer.concat(ranges.flatMap(([lo, hi]) => leaves.slice(lo, hi)));
}

/** Sorted disjoint non-empty ranges in [0, n), from a bitmap. */
const rangesArb = (n: number): fc.Arbitrary<LeafRange[]> =>
  fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((bits) => {
    const out: [number, number][] = [];
    bits.forEach((b, i) => {
      if (!b) return;
      const last = out[out.length - 1];
      if (last && last[1] === i) last[1] = i + 1;
      else out.push([i, i + 1]);
    });
    return out;
  });

describe('leaves and nodes', () => {
  it('prefixes 0x00 for leaves and 0x01 for nodes (RFC 6962)', () => {
    expect(leafHash('abc')).toEqual(sha(Buffer.from([0]), Buffer.from('abc')));
    expect(leafHash(Buffer.from('abc'))).toEqual(leafHash('abc'));
    expect(leafHash('é')).toEqual(sha(Buffer.from([0, 0xc3, 0xa9])));
    const [a, b] = leavesOf(2);
    expect(nodeHash(a, b)).toEqual(sha(Buffer.from([1]), a, b));
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('Frontier and flatTreeHash', () => {
  it('give MTH for every size 0..70 and survive a JSON round trip at each size', () => {
    const all = leavesOf(70);
    let f = Frontier.empty();
    expect(f.root()).toEqual(EMPTY_ROOT);
    for (let n = 1; n <= 70; n++) {
      f.push(all[n - 1]);
      const expected = mth(all.slice(0, n));
      expect(f.size).toBe(n);
      expect(f.root()).toEqual(expected);
      expect(flatTreeHash(Buffer.concat(all), 0, n)).toEqual(expected);
      expect(flatTreeHash(Buffer.concat(all), 70 - n, n)).toEqual(mth(all.slice(70 - n)));
      f = Frontier.fromJSON(JSON.parse(JSON.stringify(f)));
    }
  });

  it('give the root at every checkpoint size in one pass (flatPrefixRoots, StreamingTree)', () => {
    const all = leavesOf(70);
    const sizes = [0, 1, 1, 2, 7, 8, 9, 31, 32, 33, 64, 70];
    expect(flatPrefixRoots(Buffer.concat(all), 0, 70, sizes)).toEqual(sizes.map((n) => mth(all.slice(0, n))));
    expect(() => flatPrefixRoots(Buffer.concat(all), 0, 70, [5, 3])).toThrow(RangeError);
    const tree = new StreamingTree();
    expect(tree.root()).toEqual(EMPTY_ROOT);
    all.forEach((leaf, i) => {
      tree.push(leaf, 0);
      expect(tree.root()).toEqual(mth(all.slice(0, i + 1)));
    });
  });

  it('refuses a frontier whose hash count does not fit its size', () => {
    const json = Frontier.empty().push(leafHash('a')).push(leafHash('b')).push(leafHash('c')).toJSON();
    expect(json.hashes).toHaveLength(2);
    expect(() => Frontier.fromJSON({ size: 4, hashes: json.hashes })).toThrow(RangeError);
  });
});

describe('batch inclusion proofs', () => {
  it('lead to MTH for all sizes 1..70 and random range sets', async () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = leavesOf(n);
      const root = mth(leaves);
      await fc.assert(
        fc.asyncProperty(rangesArb(n), async (ranges) => {
          const proof = await batchProof(n, ranges, hasherOf(leaves));
          expect(rootFromBatch(n, { ranges, hashes: flatLeaves(leaves, ranges) }, proof)).toEqual(root);
          const items = ranges.flatMap(([lo, hi]) => leaves.slice(lo, hi).map((hash, i) => ({ index: lo + i, hash })));
          expect(rootFromBatch(n, items, proof)).toEqual(root);
        }),
        { numRuns: 30 },
      );
    }
  });

  it('needs O(ranges × log n) hashes, none for the whole tree', async () => {
    const n = 1000;
    const leaves = leavesOf(n);
    expect(await batchProof(n, [[0, n]], hasherOf(leaves))).toEqual([]);
    const one = await batchProof(n, [[100, 900]], hasherOf(leaves));
    expect(one.length).toBeGreaterThan(0);
    expect(one.length).toBeLessThanOrEqual(2 * 10); // 2 ⌈log2 n⌉
    const many = Array.from({ length: 10 }, (_, i): LeafRange => [i * 100, i * 100 + 3]);
    expect((await batchProof(n, many, hasherOf(leaves))).length).toBeLessThanOrEqual(10 * 2 * 10);
  });

  it('merges touching ranges, so [0,3)+[3,5) proves like [0,5)', async () => {
    const leaves = leavesOf(9);
    const a = await batchProof(
      9,
      [
        [0, 3],
        [3, 5],
      ],
      hasherOf(leaves),
    );
    expect(a).toEqual(await batchProof(9, [[0, 5]], hasherOf(leaves)));
    expect(rootFromBatch(9, { ranges: [[0, 5]], hashes: flatLeaves(leaves, [[0, 5]]) }, a)).toEqual(mth(leaves));
  });

  it('calls the hasher in ascending leaf order', async () => {
    const leaves = leavesOf(50);
    const calls: number[] = [];
    await batchProof(
      50,
      [
        [3, 4],
        [17, 30],
        [41, 42],
      ],
      async (lo, hi) => {
        calls.push(lo);
        return mth(leaves.slice(lo, hi));
      },
    );
    expect(calls).toEqual([...calls].sort((x, y) => x - y));
  });

  const reason = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return e instanceof ProofError ? e.reason : `not a ProofError: ${String(e)}`;
    }
  };

  it('refuses truncated and excess proofs, and leaves that do not match the ranges', async () => {
    const leaves = leavesOf(37);
    const ranges: LeafRange[] = [
      [2, 5],
      [20, 21],
    ];
    const proof = await batchProof(37, ranges, hasherOf(leaves));
    const flat = flatLeaves(leaves, ranges);
    expect(reason(() => rootFromBatch(37, { ranges, hashes: flat }, proof.slice(0, -1)))).toBe('truncated');
    expect(reason(() => rootFromBatch(37, { ranges, hashes: flat }, [...proof, proof[0]]))).toBe('excess');
    expect(reason(() => rootFromBatch(37, { ranges, hashes: flat.subarray(32) }, proof))).toBe('leaves');
    expect(
      reason(() =>
        rootFromBatch(
          37,
          {
            ranges: [
              [2, 5],
              [4, 6],
            ],
            hashes: flat,
          },
          proof,
        ),
      ),
    ).toBe('ranges');
    expect(reason(() => rootFromBatch(37, { ranges: [[30, 40]], hashes: flat }, proof))).toBe('ranges');
    expect(
      reason(() =>
        rootFromBatch(
          37,
          [
            { index: 3, hash: leaves[3] },
            { index: 2, hash: leaves[2] },
          ],
          proof,
        ),
      ),
    ).toBe('leaves');
    const bad = proof.map((h, i) => (i === 1 ? Buffer.from(h.map((x, j) => (j === 0 ? x ^ 1 : x))) : h));
    expect(rootFromBatch(37, { ranges, hashes: flat }, bad)).not.toEqual(mth(leaves));
  });

  it('handles the empty tree and an empty selection', async () => {
    expect(rootFromBatch(0, { ranges: [], hashes: Buffer.alloc(0) }, [])).toEqual(EMPTY_ROOT);
    const leaves = leavesOf(5);
    const proof = await batchProof(5, [], hasherOf(leaves));
    expect(proof).toEqual([mth(leaves)]);
    expect(rootFromBatch(5, [], proof)).toEqual(mth(leaves));
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  it('verify for all 0 ≤ m ≤ n ≤ 40, and fail when any hash, root or size is wrong', async () => {
    const all = leavesOf(40);
    for (let n = 0; n <= 40; n++) {
      const rootN = mth(all.slice(0, n));
      for (let m = 0; m <= n; m++) {
        const rootM = mth(all.slice(0, m));
        const proof = await consistencyProof(m, n, hasherOf(all.slice(0, n)));
        expect(verifyConsistency(m, n, rootM, rootN, proof)).toBe(true);
        if (m === 0 || m === n) expect(proof).toEqual([]);
        for (let i = 0; i < proof.length; i++) {
          const bad = proof.map((h, j) => (j === i ? leafHash('forged') : h));
          expect(verifyConsistency(m, n, rootM, rootN, bad)).toBe(false);
        }
        if (proof.length > 0) {
          expect(verifyConsistency(m, n, rootM, rootN, proof.slice(0, -1))).toBe(false);
          expect(verifyConsistency(m, n, rootM, rootN, [...proof, all[0]])).toBe(false);
        }
        if (m > 0 && m < n) {
          expect(verifyConsistency(m, n, leafHash('x'), rootN, proof)).toBe(false);
          expect(verifyConsistency(m, n, rootM, leafHash('x'), proof)).toBe(false);
          expect(verifyConsistency(m - 1, n, rootM, rootN, proof)).toBe(false);
        }
      }
    }
  });

  it('refuses m > n and a different tree of the same size', async () => {
    const a = leavesOf(12);
    const b = [...a.slice(0, 5), leafHash('changed'), ...a.slice(6)];
    const proof = await consistencyProof(7, 12, hasherOf(b));
    expect(verifyConsistency(7, 12, mth(a.slice(0, 7)), mth(b), proof)).toBe(false);
    expect(verifyConsistency(12, 7, mth(a), mth(a.slice(0, 7)), [])).toBe(false);
    await expect(consistencyProof(12, 7, hasherOf(a))).rejects.toThrow(RangeError);
  });
});
