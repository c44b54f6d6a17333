import { AuditEvent } from '@yoke/protocol';
import { type BundleContent, BundleEventLine } from './bundle-format';
import { canonicalJson, canonicalJsonOfParsed } from './canonical';
import { isSurelyAuditEvent } from './event-check';
import { HASH_SIZE, type LeafRange, leafHash, StreamingTree } from './merkle';
import type { BundleView } from './views';
import type { ViewChecker } from './verify-view';

export type EventFailureKind = 'edited' | 'missing' | 'reordered' | 'inserted' | 'malformed';

export interface EventFailure {
  seq: number | null;
  kind: EventFailureKind;
  message: string;
}

/** One line of events.jsonl as read: what is needed to place it and to explain it when it is wrong. */
export interface EventRecord {
  seq: number;
  /** The event as parsed (key order kept), to re-hash it under another seq. */
  raw: Record<string, unknown>;
  event: AuditEvent;
  content: BundleContent;
  recorded: Buffer;
  computed: Buffer;
}

/** `/^[0-9a-f]{64}$/`, without a regular expression (this runs once per event). */
function isHexHash(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The first issue of a zod error, as `path: message`. */
export function issueText(issues: readonly unknown[]): string {
  const first = issues[0] as { path?: PropertyKey[]; message?: string } | undefined;
  return first ? `${(first.path ?? []).map(String).join('.') || '(root)'}: ${first.message ?? 'invalid'}` : 'invalid';
}

type EventLine = { seq: number; leaf: string; content: BundleContent };

/**
 * The common events.jsonl line (content absent or not redacted) checked by hand: what `BundleEventLine` accepts,
 * at a fraction of its cost on the hot path. Anything else (null) goes through the schema, which decides.
 */
function plainEventLine(value: unknown): EventLine | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { seq, leaf, content } = value as Record<string, unknown>;
  let keys = 0;
  for (const key in value) {
    if (key !== 'seq' && key !== 'leaf' && key !== 'event' && key !== 'content') return null;
    keys++;
  }
  if (keys !== 4 || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null;
  if (typeof leaf !== 'string' || !isHexHash(leaf)) return null;
  if (content === null) return { seq, leaf, content };
  if (typeof content !== 'object' || Array.isArray(content)) return null;
  const { hash, redacted } = content as Record<string, unknown>;
  let contentKeys = 0;
  for (const key in content) {
    if (key !== 'hash' && key !== 'redacted') return null;
    contentKeys++;
  }
  if (contentKeys !== 2 || typeof hash !== 'string' || redacted !== null) return null;
  return { seq, leaf, content: { hash, redacted } };
}

/** The event's text in `line` if the line has the writer's layout around it, else null. */
function writtenEventText(line: string, seq: number, leaf: string, content: BundleContent): string | null {
  const prefix = `{"seq":${seq},"leaf":"${leaf}","event":`;
  if (!line.startsWith(prefix)) return null;
  const suffix = `,"content":${JSON.stringify(content)}}`;
  if (!line.endsWith(suffix) || line.length < prefix.length + suffix.length) return null;
  return line.slice(prefix.length, line.length - suffix.length);
}

/** The seq of a line that does not parse, as far as it can be read. */
function guessSeq(text: string, fallback: number | null): number | null {
  const m = /"seq":(\d{1,15})/.exec(text);
  return m ? Number(m[1]) : fallback;
}

/**
 * Reads one events.jsonl line: a record (its leaf recomputed), or what is wrong with the line on its own.
 * `fallbackSeq` names a line whose seq cannot be read. Pure: workers run it too.
 */
export function readEventLine(
  text: string,
  line: number,
  orgId: string,
  fallbackSeq: number | null,
): EventRecord | EventFailure {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { seq: guessSeq(text, fallbackSeq), kind: 'malformed', message: `events.jsonl line ${line} is not JSON` };
  }
  let wrapper = plainEventLine(value);
  if (!wrapper) {
    const parsed = BundleEventLine.safeParse(value);
    if (!parsed.success) {
      return {
        seq: guessSeq(text, fallbackSeq),
        kind: 'malformed',
        message: `events.jsonl line ${line}: ${issueText(parsed.error.issues)}`,
      };
    }
    wrapper = parsed.data;
  }
  const { seq, leaf, content } = wrapper;
  const raw = (value as { event: Record<string, unknown> }).event;
  let event: AuditEvent;
  if (isSurelyAuditEvent(raw)) {
    event = raw;
  } else {
    const parsed = AuditEvent.safeParse(raw);
    if (!parsed.success) {
      return { seq, kind: 'malformed', message: `the event is not an audit event: ${issueText(parsed.error.issues)}` };
    }
    event = parsed.data;
  }
  const recorded = Buffer.from(leaf, 'hex');
  // As the writer writes them, the event's text in the line is already its RFC 8785 form: hash it as it is. If
  // that hash is the recorded leaf, the text is the canonical JSON of the logged event (SHA-256 is collision
  // resistant), hence a single JSON object, hence exactly what JSON.parse read as `event`. Otherwise canonicalize.
  const asWritten = writtenEventText(text, seq, leaf, content);
  let computed = asWritten === null ? null : leafHash(asWritten);
  if (!computed?.equals(recorded)) computed = leafHash(canonicalJsonOfParsed(raw));
  if (event.seq !== seq) {
    return { seq, kind: 'edited', message: `line ${line} is seq ${seq} but its event says seq ${event.seq}` };
  }
  if (event.orgId !== orgId) {
    const what = computed.equals(recorded) ? 'inserted' : 'edited';
    return { seq, kind: what, message: `the event is of org ${event.orgId}, not ${orgId}` };
  }
  if (content && content.hash !== event.contentHash) {
    return { seq, kind: 'edited', message: `its content record ${content.hash} is not the event's contentHash` };
  }
  return { seq, raw, event, content, recorded, computed };
}

/** What a worker found in a batch of lines: the leading lines that are fine on their own, compactly. */
export interface BatchResult {
  /** Lines in the batch. */
  lines: number;
  /** Leading lines that parse, belong to the org and hash to their recorded leaf; the rest is read again. */
  ok: number;
  seqs: Float64Array;
  /** Their leaves, 32 bytes each. */
  leaves: Uint8Array;
  /** [line index, rule] of the redacted ones. */
  redacted: [number, string][];
  /** Their view rows, concatenated, and each row's length in bytes (CSV, OCSF). */
  rows: string | null;
  rowLengths: Uint32Array | null;
}

/** The per-line work of events.jsonl (everything but the order), for a batch of whole lines: a worker's job. */
export function checkBatch(batch: Buffer, orgId: string, view: BundleView | null): BatchResult {
  let lines = 0;
  for (let nl = batch.indexOf(10); nl >= 0; nl = batch.indexOf(10, nl + 1)) lines++;
  const seqs = new Float64Array(lines);
  const leaves = new Uint8Array(lines * HASH_SIZE);
  const redacted: [number, string][] = [];
  const rows: string[] = [];
  const rowLengths = view ? new Uint32Array(lines) : null;
  let ok = 0;
  let start = 0;
  for (let nl = batch.indexOf(10); nl >= 0; nl = batch.indexOf(10, start)) {
    const rec = readEventLine(batch.toString('utf8', start, nl), 0, orgId, null);
    start = nl + 1;
    if (!('raw' in rec) || !rec.computed.equals(rec.recorded)) break;
    seqs[ok] = rec.seq;
    leaves.set(rec.recorded, ok * HASH_SIZE);
    if (rec.content?.redacted) redacted.push([ok, rec.content.redacted.rule]);
    if (view && rowLengths) {
      const row = view.row(rec.event);
      rows.push(row);
      rowLengths[ok] = Buffer.byteLength(row, 'utf8');
    }
    ok++;
  }
  return { lines, ok, seqs, leaves, redacted, rows: view ? rows.join('') : null, rowLengths };
}

/** Why a line stopped the walk: its seq is not the one expected next, or its hash is not its leaf. */
interface Anomaly {
  kind: 'ahead' | 'leaf';
  rec: EventRecord;
  previous: { seq: number; recorded: Buffer } | null;
  expected: number;
  following: (EventRecord | null)[];
}

const PROGRESS_EVERY = 10_000;

/**
 * Walks events.jsonl line by line against the seqs the bundle must hold (`expected` leaf ranges): each line parses,
 * belongs to the org, comes in order, and hashes to the leaf recorded when it was appended. The recorded leaves go
 * into one flat buffer for the inclusion proof. At the first wrong line it reads two more and explains it: a seq
 * skipped (missing), two events out of order (reordered), a line that is not in the log (inserted), or a changed
 * event (edited), including when later seqs were renumbered to hide a deletion or an insertion.
 *
 * Lines come either one by one (`line`) or as worker results (`batch`), whose good lines only need placing.
 */
export class EventChecker {
  count = 0;
  done = false;
  redactedCount = 0;
  readonly redactedRules = new Set<string>();
  /** The recorded leaves, flat (for the inclusion proof), unless the tree is hashed as they come. */
  private flat: Buffer;
  private readonly tree: StreamingTree | null;
  private readonly roots: Buffer[] = [];
  private readonly lastLeaf = Buffer.alloc(HASH_SIZE);
  private readonly total: number;
  private rangeIndex = 0;
  /** Leaf index expected next; -1 past the last range. */
  private cursor: number;
  private previousSeq: number | null = null;
  private lineNo = 0;
  private anomaly: Anomaly | null = null;
  private failure: EventFailure | null = null;

  constructor(
    private readonly orgId: string,
    readonly expected: LeafRange[],
    private readonly view: ViewChecker | null,
    private readonly onProgress?: (checked: number, expected: number) => void,
    /** When the events are the whole log: hash the tree as they come, and keep its root at each of these sizes. */
    private readonly rootsAt: readonly number[] | null = null,
  ) {
    this.total = expected.reduce((n, [lo, hi]) => n + hi - lo, 0);
    this.tree = rootsAt ? new StreamingTree() : null;
    this.flat = Buffer.allocUnsafe(this.tree ? 0 : Math.min(this.total, 1 << 20) * HASH_SIZE);
    this.cursor = expected.length > 0 ? expected[0][0] : -1;
    this.takeRoots();
  }

  /** The roots at the `rootsAt` sizes reached so far (whole-log mode). */
  prefixRoots(): Buffer[] {
    return this.roots;
  }

  private takeRoots(): void {
    if (!this.tree || !this.rootsAt) return;
    while (this.roots.length < this.rootsAt.length && this.rootsAt[this.roots.length] === this.count) {
      this.roots.push(this.tree.root());
    }
  }

  /** How many events the bundle must hold. */
  get expectedCount(): number {
    return this.total;
  }

  leaves(): Buffer {
    return this.flat.subarray(0, this.count * HASH_SIZE);
  }

  line(text: string): void {
    if (this.done) return;
    this.lineNo++;
    const rec = readEventLine(text, this.lineNo, this.orgId, this.previousSeq === null ? null : this.previousSeq + 1);
    if (this.anomaly) {
      this.anomaly.following.push('raw' in rec ? rec : null);
      if (this.anomaly.following.length >= 2) this.conclude();
      return;
    }
    if (!('raw' in rec)) return this.stop(rec);
    const expected = this.cursor < 0 ? null : this.cursor + 1;
    const previous = this.previousSeq;
    if (expected === null || rec.seq < expected) {
      if (previous !== null && rec.seq === previous) {
        return this.stop({ seq: rec.seq, kind: 'inserted', message: `a second event with seq ${rec.seq}` });
      }
      if (previous !== null && rec.seq < previous) {
        return this.stop({ seq: rec.seq, kind: 'reordered', message: `seq ${rec.seq} comes after seq ${previous}` });
      }
      const where = expected === null ? 'after the last exported seq' : `before seq ${expected}`;
      return this.stop({ seq: rec.seq, kind: 'inserted', message: `seq ${rec.seq} is not in the export (${where})` });
    }
    if (rec.seq > expected) {
      this.anomaly = { kind: 'ahead', rec, previous: this.previousRecord(), expected, following: [] };
      return;
    }
    if (!rec.computed.equals(rec.recorded)) {
      this.anomaly = { kind: 'leaf', rec, previous: this.previousRecord(), expected, following: [] };
      return;
    }
    this.place(rec.seq, rec.recorded, 0, rec.content?.redacted?.rule ?? null);
    this.view?.addRow(rec.event);
  }

  /** A worker's result for `batch`: its good lines placed as they are, any other line read again here. */
  batch(batch: Buffer, r: BatchResult): void {
    const rows = r.rows !== null ? Buffer.from(r.rows, 'utf8') : null;
    let rowAt = 0;
    let redactedAt = 0;
    let start = 0;
    for (let i = 0; i < r.lines && !this.done; i++) {
      const nl = batch.indexOf(10, start);
      const lineStart = start;
      start = nl + 1;
      if (i < r.ok) {
        const rule =
          redactedAt < r.redacted.length && r.redacted[redactedAt][0] === i ? r.redacted[redactedAt++][1] : null;
        const length = r.rowLengths ? r.rowLengths[i] : 0;
        const row = rows ? rows.subarray(rowAt, rowAt + length) : null;
        rowAt += length;
        if (!this.anomaly && this.cursor >= 0 && r.seqs[i] === this.cursor + 1) {
          this.lineNo++;
          this.place(r.seqs[i], r.leaves, i * HASH_SIZE, rule);
          if (row) this.view?.addRendered(row);
          continue;
        }
      }
      this.line(batch.toString('utf8', lineStart, nl));
    }
  }

  end(): EventFailure | null {
    if (this.anomaly) this.conclude();
    if (!this.failure && this.cursor >= 0) {
      const seq = this.cursor + 1;
      const after = this.previousSeq !== null ? `after seq ${this.previousSeq}` : 'at all';
      this.stop({ seq, kind: 'missing', message: `seq ${seq} is not in the export (the events end ${after})` });
    }
    this.done = true;
    return this.failure;
  }

  private previousRecord(): { seq: number; recorded: Buffer } | null {
    if (this.previousSeq === null) return null;
    return { seq: this.previousSeq, recorded: Buffer.from(this.lastLeaf) };
  }

  private stop(f: EventFailure): void {
    this.failure = f;
    this.done = true;
  }

  /** The next expected event is `seq`, with its leaf at `leaves[offset…]`. */
  private place(seq: number, leaves: Uint8Array, offset: number, redactedRule: string | null): void {
    const leaf = leaves.subarray(offset, offset + HASH_SIZE);
    this.lastLeaf.set(leaf);
    if (this.tree) {
      this.tree.push(leaves, offset);
    } else {
      const at = this.count * HASH_SIZE;
      if (at + HASH_SIZE > this.flat.length) {
        const grown = Buffer.allocUnsafe(Math.min(this.total, Math.max(1024, this.count * 2)) * HASH_SIZE);
        this.flat.copy(grown, 0, 0, at);
        this.flat = grown;
      }
      this.flat.set(leaf, at);
    }
    this.count++;
    this.takeRoots();
    if (redactedRule !== null) {
      this.redactedCount++;
      this.redactedRules.add(redactedRule);
    }
    if (this.onProgress && this.count % PROGRESS_EVERY === 0) this.onProgress(this.count, this.total);
    this.previousSeq = seq;
    this.cursor++;
    if (this.cursor === this.expected[this.rangeIndex][1]) {
      this.rangeIndex++;
      this.cursor = this.rangeIndex < this.expected.length ? this.expected[this.rangeIndex][0] : -1;
    }
  }

  private conclude(): void {
    const a = this.anomaly;
    if (!a) return;
    this.anomaly = null;
    const [next, after] = a.following;
    const { rec } = a;
    if (a.kind === 'ahead') {
      if (next && next.seq === a.expected) {
        return this.stop({
          seq: a.expected,
          kind: 'reordered',
          message: `seq ${rec.seq} comes before seq ${a.expected}`,
        });
      }
      const from = a.previous ? `seq ${a.previous.seq}` : 'its start';
      return this.stop({ seq: a.expected, kind: 'missing', message: `the export goes from ${from} to seq ${rec.seq}` });
    }
    // The line's hash is not its leaf. Re-hash events under a neighbouring seq to see whether they were moved.
    const leafAs = (r: EventRecord, seq: number): Buffer => leafHash(canonicalJson({ ...r.raw, seq }));
    const matches = (h: Buffer, ...others: ({ recorded: Buffer } | null | undefined)[]): boolean =>
      others.some((r) => r?.recorded.equals(h));
    const up = matches(leafAs(rec, rec.seq + 1), rec, next);
    const down = matches(leafAs(rec, rec.seq - 1), rec, a.previous);
    const nextDown = next ? matches(leafAs(next, next.seq - 1), next, rec) : false;
    const nextUp = next ? matches(leafAs(next, next.seq + 1), next, after) : false;
    const seq = rec.seq;
    if (up && nextDown) {
      const message = `the events of seq ${seq} and ${seq + 1} were swapped (their seqs rewritten)`;
      return this.stop({ seq, kind: 'reordered', message });
    }
    if (up && (!next || nextUp)) {
      const message = `seq ${seq} was removed and the events after it renumbered: this line is seq ${seq + 1}`;
      return this.stop({ seq, kind: 'missing', message });
    }
    if (down) {
      const message = `the line of seq ${seq - 1} is not in the log: the events after it were renumbered`;
      return this.stop({ seq: seq - 1, kind: 'inserted', message });
    }
    if (nextDown) {
      const message = `the line of seq ${seq} is not in the log: the events after it were renumbered`;
      return this.stop({ seq, kind: 'inserted', message });
    }
    const message = 'the event is not the one recorded in the log (its hash is not its leaf)';
    this.stop({ seq, kind: 'edited', message });
  }
}
