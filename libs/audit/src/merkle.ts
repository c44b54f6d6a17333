import { hash } from 'node:crypto';
import type { AuditEvent } from '@yoke/protocol';
import { canonicalJson } from './canonical';

/**
 * The RFC 6962 / RFC 9162 §2.1 Merkle tree of an org's audit log: leaf `seq - 1` is the event's canonical JSON.
 *
 *   leaf = SHA-256(0x00 ‖ data)          node = SHA-256(0x01 ‖ left ‖ right)
 *   MTH(D[n]) splits at k, the largest power of two below n; MTH({}) = SHA-256("").
 *
 * Proofs are made against a `SubtreeHasher` (the server streams leaf hashes from Postgres) and checked with no
 * hasher at all, from the leaves at hand and the proof's hashes.
 */

export const HASH_SIZE = 32;

/** MTH of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

const LEAF_PREFIX = Buffer.from([0x00]);

export function leafHash(data: Buffer | string): Buffer {
  return typeof data === 'string'
    ? hash('sha256', `\u0000${data}`, 'buffer')
    : hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer');
}

/** One scratch buffer for `0x01 ‖ left ‖ right`: hashing is synchronous, nothing can interleave. */
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  left.copy(nodeInput, 1, 0, HASH_SIZE);
  right.copy(nodeInput, 1 + HASH_SIZE, 0, HASH_SIZE);
  return hash('sha256', nodeInput, 'buffer');
}

/** The leaf of an audit event: its RFC 8785 JSON, UTF-8. */
export function eventLeaf(event: AuditEvent): Buffer {
  return leafHash(canonicalJson(event));
}

/** Size of the left subtree of a tree of `size` ≥ 2 leaves: the largest power of two below it. */
export function splitPoint(size: number): number {
  let k = 1;
  while (k * 2 < size) k *= 2;
  return k;
}

/** A failed proof check. `truncated`: the proof ran out of hashes; `excess`: hashes were left over. */
export class ProofError extends Error {
  constructor(
    readonly reason: 'truncated' | 'excess' | 'leaves' | 'ranges' | 'hash_size',
    message: string,
  ) {
    super(message);
    this.name = 'ProofError';
  }
}

function assertHash(h: Buffer, what: string): void {
  if (h.length !== HASH_SIZE) throw new ProofError('hash_size', `${what} is ${h.length} bytes, not ${HASH_SIZE}`);
}

function assertSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, not ${n}`);
}

/**
 * MTH of `count` consecutive leaf hashes stored flat in `leaves` (leaf i at bytes [32 i, 32 i + 32) from leaf
 * `first`): a stack of at most 64 hashes in one buffer, no object per node. This is the verifier's hot path.
 */
export function flatTreeHash(leaves: Buffer, first: number, count: number): Buffer {
  return flatPrefixRoots(leaves, first, count, [count])[0];
}

/**
 * MTH of the first `s` of the `count` flat leaves from `first`, for each `s` of `sizes` (ascending, each ≤ count),
 * in one pass.
 */
export function flatPrefixRoots(leaves: Buffer, first: number, count: number, sizes: readonly number[]): Buffer[] {
  if ((first + count) * HASH_SIZE > leaves.length) throw new ProofError('leaves', 'fewer leaf hashes than leaves');
  const tree = new StreamingTree();
  const roots: Buffer[] = [];
  let target = 0;
  for (let i = 0; i <= count; i++) {
    while (target < sizes.length && sizes[target] === i) {
      roots.push(tree.root());
      target++;
    }
    if (i < count) tree.push(leaves, (first + i) * HASH_SIZE);
  }
  if (target < sizes.length) throw new RangeError(`sizes must be ascending and at most ${count}`);
  return roots;
}

/**
 * The tree of leaves pushed one by one, held as its compact range in one 64-hash buffer (no object per node):
 * how the verifier hashes a whole log as the events stream by, and reads the root at each checkpoint's size.
 */
export class StreamingTree {
  private readonly stack = Buffer.allocUnsafe(64 * HASH_SIZE);
  private depth = 0;
  size = 0;

  /** Pushes the leaf hash at `leaves[offset…offset + 32]`. */
  push(leaves: Uint8Array, offset: number): void {
    this.stack.set(leaves.subarray(offset, offset + HASH_SIZE), this.depth * HASH_SIZE);
    this.depth++;
    // Leaf i completes one perfect subtree per trailing 1 bit of i (a binary counter's carries).
    for (let k = this.size; k % 2 === 1; k = (k - 1) / 2) {
      const at = (this.depth - 2) * HASH_SIZE;
      this.stack.copy(nodeInput, 1, at, at + 2 * HASH_SIZE);
      hash('sha256', nodeInput, 'buffer').copy(this.stack, at);
      this.depth--;
    }
    this.size++;
  }

  /** MTH of the leaves so far: the perfect subtrees, largest first, folded from the right (MTH's split rule). */
  root(): Buffer {
    const { stack, depth } = this;
    if (depth === 0) return EMPTY_ROOT;
    let root: Buffer = Buffer.from(stack.subarray((depth - 1) * HASH_SIZE, depth * HASH_SIZE));
    for (let d = depth - 2; d >= 0; d--) root = nodeHash(stack.subarray(d * HASH_SIZE, (d + 1) * HASH_SIZE), root);
    return root;
  }
}

/**
 * The compact range [0, n): the roots of the perfect subtrees of n's binary decomposition, left to right (one
 * per set bit of n, largest first). Pushing a leaf merges the subtrees it completes; the root folds them from the
 * right. The server keeps one per checkpoint to extend the tree without reading it back. Also gives MTH of any
 * run of leaves pushed in order, e.g. a `SubtreeHasher` over [lo, hi).
 */
export class Frontier {
  private constructor(
    private readonly hashes: Buffer[],
    private count: number,
  ) {}

  static empty(): Frontier {
    return new Frontier([], 0);
  }

  static fromJSON(json: FrontierJson): Frontier {
    assertSize(json.size, 'frontier size');
    const hashes = json.hashes.map((h) => Buffer.from(h, 'base64'));
    if (hashes.length !== popcount(json.size)) {
      throw new RangeError(`a frontier of ${json.size} leaves has ${popcount(json.size)} hashes, not ${hashes.length}`);
    }
    hashes.forEach((h, i) => assertHash(h, `frontier hash ${i}`));
    return new Frontier(hashes, json.size);
  }

  get size(): number {
    return this.count;
  }

  push(leaf: Buffer): this {
    assertHash(leaf, 'leaf');
    this.hashes.push(Buffer.from(leaf));
    for (let k = this.count; k % 2 === 1; k = (k - 1) / 2) {
      const right = this.hashes.pop() as Buffer;
      const left = this.hashes.pop() as Buffer;
      this.hashes.push(nodeHash(left, right));
    }
    this.count++;
    return this;
  }

  root(): Buffer {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let root = this.hashes[this.hashes.length - 1];
    for (let i = this.hashes.length - 2; i >= 0; i--) root = nodeHash(this.hashes[i], root);
    return root;
  }

  toJSON(): FrontierJson {
    return { size: this.count, hashes: this.hashes.map((h) => h.toString('base64')) };
  }
}

export interface FrontierJson {
  size: number;
  /** Base64 roots of the perfect subtrees, largest first. */
  hashes: string[];
}

function popcount(n: number): number {
  let bits = 0;
  for (let k = n; k > 0; k = Math.floor(k / 2)) bits += k % 2;
  return bits;
}

/** Hash of leaves [lo, hi) of the tree (MTH of that run), supplied by whoever holds the leaves. */
export type SubtreeHasher = (lo: number, hi: number) => Promise<Buffer>;

/** Half-open leaf index range [lo, hi). */
export type LeafRange = readonly [lo: number, hi: number];

/**
 * Checks that `ranges` are sorted, disjoint, non-empty and inside a tree of `size` leaves, and merges ranges that
 * touch ([0,3) and [3,5) become [0,5)), so prover and verifier walk the same tree.
 */
export function normalizeRanges(ranges: readonly LeafRange[], size: number): LeafRange[] {
  const out: [number, number][] = [];
  let end = 0;
  for (const r of ranges) {
    const [lo, hi] = r;
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo >= hi) {
      throw new ProofError('ranges', `range [${lo}, ${hi}) is empty or not integers`);
    }
    if (lo < end) throw new ProofError('ranges', `range [${lo}, ${hi}) overlaps or precedes the one before it`);
    if (hi > size) throw new ProofError('ranges', `range [${lo}, ${hi}) is outside a tree of ${size}`);
    const last = out[out.length - 1];
    if (last && last[1] === lo) last[1] = hi;
    else out.push([lo, hi]);
    end = hi;
  }
  return out;
}

/** First index in [a, b) whose range starts at or after `at` (ranges are sorted). */
function firstStartingAt(ranges: readonly LeafRange[], a: number, b: number, at: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid][0] < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks the RFC 6962 tree of [lo, hi) depth first, left to right, with `ranges[a..b)` the (normalized) ranges
 * that meet it: a node with no included leaf is `absent`, one whose leaves are all included is `full`, any other
 * splits. Both prover and verifier are this walk.
 */
function walk<T>(
  lo: number,
  hi: number,
  ranges: readonly LeafRange[],
  a: number,
  b: number,
  visit: { absent(lo: number, hi: number): T; full(lo: number, hi: number, range: number): T; node(l: T, r: T): T },
): T {
  if (a === b) return visit.absent(lo, hi);
  if (b - a === 1 && ranges[a][0] <= lo && ranges[a][1] >= hi) return visit.full(lo, hi, a);
  const mid = lo + splitPoint(hi - lo);
  const c = firstStartingAt(ranges, a, b, mid); // ranges[a..c) start left of mid
  const d = c > a && ranges[c - 1][1] > mid ? c - 1 : c; // the last of them may reach over
  const left = walk(lo, mid, ranges, a, c, visit);
  const right = walk(mid, hi, ranges, d, b, visit);
  return visit.node(left, right);
}

/**
 * Batch inclusion proof of the leaves in `ranges` in the tree of `size` leaves: the hashes of the subtrees with
 * no included leaf, in depth-first order (the verifier recomputes the rest from the leaves). O(ranges × log n)
 * hashes; the hasher is called in ascending leaf order.
 */
export async function batchProof(size: number, ranges: readonly LeafRange[], hasher: SubtreeHasher): Promise<Buffer[]> {
  assertSize(size, 'tree size');
  const normalized = normalizeRanges(ranges, size);
  if (size === 0) return [];
  const absent: LeafRange[] = [];
  walk<void>(0, size, normalized, 0, normalized.length, {
    absent: (lo, hi) => void absent.push([lo, hi]),
    full: () => undefined,
    node: () => undefined,
  });
  const proof: Buffer[] = [];
  for (const [lo, hi] of absent) {
    const h = await hasher(lo, hi);
    assertHash(h, `subtree [${lo}, ${hi})`);
    proof.push(h);
  }
  return proof;
}

/** Included leaves: flat (the verifier's form) or one object per leaf in ascending index order. */
export type BatchLeaves =
  | { ranges: readonly LeafRange[]; hashes: Buffer }
  | Iterable<{ index: number; hash: Buffer }>
  | { indices: readonly number[]; hashes: readonly Buffer[] };

function flatten(leaves: BatchLeaves): { ranges: readonly LeafRange[]; hashes: Buffer } {
  if ('ranges' in leaves) return leaves;
  const items: Iterable<{ index: number; hash: Buffer }> =
    'indices' in leaves
      ? leaves.indices.map((index, i) => {
          if (i >= leaves.hashes.length) throw new ProofError('leaves', 'more leaf indices than hashes');
          return { index, hash: leaves.hashes[i] };
        })
      : leaves;
  if ('indices' in leaves && leaves.indices.length !== leaves.hashes.length) {
    throw new ProofError('leaves', 'more leaf hashes than indices');
  }
  const ranges: [number, number][] = [];
  const chunks: Buffer[] = [];
  let previous = -1;
  for (const { index, hash: h } of items) {
    if (!Number.isSafeInteger(index) || index <= previous) {
      throw new ProofError('leaves', `leaf index ${index} does not follow ${previous}`);
    }
    assertHash(h, `leaf ${index}`);
    const last = ranges[ranges.length - 1];
    if (last && last[1] === index) last[1] = index + 1;
    else ranges.push([index, index + 1]);
    chunks.push(h);
    previous = index;
  }
  return { ranges, hashes: Buffer.concat(chunks) };
}

/**
 * The root a batch inclusion proof leads to, from the included leaves and the proof. Throws `ProofError`:
 * `truncated` (hashes ran out), `excess` (hashes left over), `leaves` (leaf hashes do not match the ranges),
 * `ranges` (unsorted, overlapping or outside the tree). Compare the result with the checkpoint's root.
 */
export function rootFromBatch(size: number, leaves: BatchLeaves, proof: readonly Buffer[]): Buffer {
  assertSize(size, 'tree size');
  const { ranges: given, hashes } = flatten(leaves);
  const ranges = normalizeRanges(given, size);
  // Position in `hashes` of each range's first leaf.
  const offsets: number[] = [];
  let total = 0;
  for (const [lo, hi] of ranges) {
    offsets.push(total);
    total += hi - lo;
  }
  if (hashes.length !== total * HASH_SIZE) {
    throw new ProofError('leaves', `${hashes.length / HASH_SIZE} leaf hashes for ${total} leaves in the ranges`);
  }
  proof.forEach((h, i) => assertHash(h, `proof hash ${i}`));
  if (size === 0) {
    if (proof.length > 0) throw new ProofError('excess', `${proof.length} proof hashes for an empty tree`);
    return EMPTY_ROOT;
  }
  let next = 0;
  const root = walk<Buffer>(0, size, ranges, 0, ranges.length, {
    absent: (lo, hi) => {
      if (next >= proof.length) {
        throw new ProofError(
          'truncated',
          `the proof ran out of hashes at subtree [${lo}, ${hi}) (${proof.length} given)`,
        );
      }
      return proof[next++];
    },
    full: (lo, hi, r) => flatTreeHash(hashes, offsets[r] + lo - ranges[r][0], hi - lo),
    node: nodeHash,
  });
  if (next < proof.length) {
    throw new ProofError('excess', `${proof.length - next} of the proof's ${proof.length} hashes were not used`);
  }
  return root;
}

/**
 * RFC 9162 §2.1.4.1 consistency proof from the tree of `m` leaves to the tree of `n` ≥ m leaves. Empty when m is
 * 0 or n. The hasher is called in ascending leaf order.
 */
export async function consistencyProof(m: number, n: number, hasher: SubtreeHasher): Promise<Buffer[]> {
  assertSize(m, 'old size');
  assertSize(n, 'new size');
  if (m > n) throw new RangeError(`old size ${m} is larger than new size ${n}`);
  if (m === 0 || m === n) return [];
  const nodes: LeafRange[] = [];
  // SUBPROOF(m, D[lo:hi], complete): `complete` is true while the old tree is a whole subtree we descend through.
  const subproof = (oldSize: number, lo: number, hi: number, complete: boolean): void => {
    if (oldSize === hi - lo) {
      if (!complete) nodes.push([lo, hi]);
      return;
    }
    const k = splitPoint(hi - lo);
    if (oldSize <= k) {
      subproof(oldSize, lo, lo + k, complete);
      nodes.push([lo + k, hi]);
    } else {
      subproof(oldSize - k, lo + k, hi, false);
      nodes.push([lo, lo + k]);
    }
  };
  subproof(m, 0, n, true);
  const order = nodes.map((_, i) => i).sort((x, y) => nodes[x][0] - nodes[y][0]);
  const proof: Buffer[] = new Array<Buffer>(nodes.length);
  for (const i of order) {
    const h = await hasher(nodes[i][0], nodes[i][1]);
    assertHash(h, `subtree [${nodes[i][0]}, ${nodes[i][1]})`);
    proof[i] = h;
  }
  return proof;
}

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `m` leaves with root `rootM` is a prefix of the tree of
 * `n` leaves with root `rootN`? For m = n the proof is empty and the roots equal; for m = 0 the proof is empty
 * and `rootM` is the empty tree's.
 */
export function verifyConsistency(
  m: number,
  n: number,
  rootM: Buffer,
  rootN: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (proof.some((h) => h.length !== HASH_SIZE)) return false;
  if (m === n) return proof.length === 0 && rootM.equals(rootN);
  if (m === 0) return proof.length === 0 && rootM.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  // The old tree's root is the first node of the path when the old tree is a perfect subtree of the new one.
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(rootM) && sr.equals(rootN);
}

function isPowerOfTwo(x: number): boolean {
  let k = 1;
  while (k < x) k *= 2;
  return k === x;
}
