import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import type { z } from 'zod';
import {
  BundleCheckpointLine,
  BundleKeys,
  BundleManifest,
  BundleProofs,
  bundlePartNames,
  isUnfiltered,
} from './bundle-format';
import { type LeafRange, normalizeRanges, ProofError, rootFromBatch, verifyConsistency } from './merkle';
import { auditOrigin, NoteError, openNote, parseVerifierKey, type VerifierKey } from './note';
import { EventChecker, issueText } from './verify-events';
import { LineBatcher, LineSplitter, LineTooLong } from './verify-lines';
import { defaultWorkers, EventPool } from './verify-pool';
import { ViewChecker } from './verify-view';
import { viewOf } from './views';

export type VerifyFailureKind =
  | 'edited'
  | 'missing'
  | 'reordered'
  | 'inserted'
  | 'bad_signature'
  | 'unknown_key'
  | 'bad_proof'
  | 'malformed'
  | 'bad_view';

export interface VerifyFailure {
  ok: false;
  /** The first event found wrong, in seq order; null when the failure is not one event's. */
  seq: number | null;
  kind: VerifyFailureKind;
  message: string;
}

export interface VerifySuccess {
  ok: true;
  orgId: string;
  format: BundleManifest['format'];
  filters: BundleManifest['filters'];
  /** Exported events and their first and last seq (null when none). */
  events: number;
  range: BundleManifest['range'];
  checkpoints: number;
  /** Size and base64 root of the last checkpoint: the signed tree every event is proven in. */
  treeSize: number;
  root: string;
  /** Events whose content retention erased: they verify (only the content is gone), listed by rule. */
  redacted: { count: number; rules: string[] };
  /** `name+keyhash` of the keys that signed the checkpoints. */
  keys: string[];
  /** Whether the checkpoint keys came from the caller (`trustedKeys`) or only from the bundle itself. */
  keysTrusted: boolean;
  /** Hex SHA-256 of the bundle file, to compare with the one published with the export. */
  sha256: string;
}

export type VerifyReport = VerifySuccess | VerifyFailure;

export interface VerifyOptions {
  /** Verifier keys (`name+hash+key`) to accept checkpoints from; default: the bundle's own keys.json. */
  trustedKeys?: string[];
  /** Hex SHA-256 the bundle file must have (as published with the export). */
  sha256?: string;
  /** Called every 10,000 events checked, with the number the bundle must hold. */
  onProgress?: (eventsChecked: number, eventsExpected: number) => void;
  /**
   * Worker threads for the per-event checks (parse, schema, RFC 8785, leaf hash) while this thread reads the
   * archive. Default: one per CPU (at most 4) for 20,000 events or more when running compiled; 0: all on this
   * thread.
   */
  workers?: number;
}

/**
 * Which failure is reported when there are several: the archive itself first (nothing inside can be trusted if
 * the gzip or tar is damaged), then signatures and checkpoints, then the first bad event by seq, the inclusion
 * proof, the view, and last the manifest's digests and counts. A part digest mismatch is found as soon as a part
 * ends but is reported only if nothing more precise is, so an edited event is named by its seq, not as "events.jsonl
 * differs". Past any failure but a digest one, only the archive is still read (to catch damage).
 */
enum Stage {
  Archive,
  Checkpoints,
  Events,
  Inclusion,
  View,
  Digests,
}

interface StagedFailure {
  stage: Stage;
  seq: number | null;
  kind: VerifyFailureKind;
  message: string;
}

const MAX_SMALL_PART = 64 << 20;
/** Bytes of events.jsonl per worker batch (about 650 events). */
const BATCH_BYTES = 1 << 19;

/**
 * Checks an audit bundle with no server and no network (see bundle-format.ts for what it holds). Streams the
 * archive once: memory is the included leaves (32 bytes per event) and, for CSV and OCSF, 8 bytes per view row.
 */
export async function verifyBundle(file: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  let trusted: VerifierKey[] | null;
  try {
    trusted = opts.trustedKeys ? opts.trustedKeys.map((k) => parseVerifierKey(k)) : null;
  } catch (e) {
    return { ok: false, seq: null, kind: 'malformed', message: `trusted key: ${(e as Error).message}` };
  }
  const verifier = new BundleVerifier(trusted, opts);
  let bug: unknown = null;
  const fileHash = createHash('sha256');
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      // A throw in here would land inside the tar parser: keep it and rethrow once the archive is read.
      const guard = (f: () => void): void => {
        try {
          if (!bug) f();
        } catch (e) {
          bug = e;
        }
      };
      // In this order: adding a 'data' listener resumes the entry, which beginPart may pause; an empty entry has
      // ended already, and an 'end' listener added then runs at once.
      entry.on('data', (chunk: Buffer) => guard(() => verifier.data(chunk)));
      guard(() => verifier.beginPart(entry.path, entry.type, entry));
      entry.on('end', () => guard(() => verifier.endPart()));
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (parser.write(chunk)) done();
      else parser.once('drain', () => done());
    },
    final(done) {
      parser.once('end', () => done());
      parser.end();
    },
  });
  parser.on('error', (e: Error) => sink.destroy(e));
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          fileHash.update(chunk);
          yield chunk;
        }
      },
      // Node's gunzip runs on the thread pool, beside the checks on the main thread.
      createGunzip({ chunkSize: 1 << 18 }),
      sink,
    );
    await verifier.settled();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      return { ok: false, seq: null, kind: 'malformed', message: `cannot read ${file}: ${(e as Error).message}` };
    }
    if (e instanceof WorkerFailure) throw e.cause;
    verifier.archiveDamaged(e as Error);
  } finally {
    await verifier.close();
  }
  if (bug) throw bug;
  const sha256 = fileHash.digest('hex');
  return verifier.finish(sha256, opts.sha256?.toLowerCase());
}

/** Pausing the archive entry being read (a tar ReadEntry). */
interface Flow {
  pause(): void;
  resume(): void;
}

/** A worker (or a check run on its results) threw: a bug to surface, not a verdict on the bundle. */
class WorkerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('an event check failed');
  }
}

interface PartState {
  name: string;
  hash: Hash;
  bytes: number;
  data(chunk: Buffer): void;
  end(): void;
}

interface CheckpointInfo {
  size: number;
  root: Buffer;
  time: string;
}

class BundleVerifier {
  private failure: StagedFailure | null = null;
  private manifest: BundleManifest | null = null;
  private expectedParts: string[] = [];
  private partIndex = 0;
  private part: PartState | null = null;
  private verifyKeys: VerifierKey[] = [];
  private readonly keysUsed = new Set<string>();
  private keyCount = 0;
  private readonly checkpoints: CheckpointInfo[] = [];
  private proofs: { ranges: LeafRange[]; hashes: Buffer[] } | null = null;
  private events: EventChecker | null = null;
  private viewCheck: ViewChecker | null = null;

  private pool: EventPool | null = null;
  /** The event checks still running in workers; the parts after events.jsonl wait for them. */
  private eventsSettled: Promise<void> | null = null;
  /** Parts ending after the workers are done. */
  private deferred: Promise<void> = Promise.resolve();
  private deferredError: WorkerFailure | null = null;

  constructor(
    private readonly trusted: VerifierKey[] | null,
    private readonly opts: VerifyOptions,
  ) {}

  /** Waits for the event checks in workers (rejects with a WorkerFailure if one failed). */
  async settled(): Promise<void> {
    if (this.eventsSettled) await this.eventsSettled;
    await this.deferred;
    if (this.deferredError) throw this.deferredError;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** True once a failure other than a digest mismatch was found: the remaining checks are skipped. */
  private get halted(): boolean {
    return this.failure !== null && this.failure.stage !== Stage.Digests;
  }

  private fail(stage: Stage, kind: VerifyFailureKind, message: string, seq: number | null = null): void {
    if (!this.failure || stage < this.failure.stage) this.failure = { stage, kind, message, seq };
  }

  archiveDamaged(e: Error): void {
    this.fail(Stage.Archive, 'malformed', `the archive is damaged or not a bundle: ${e.message}`);
  }

  beginPart(name: string, type: string, flow: Flow): void {
    // A part after events.jsonl (the view) is read only once the workers have placed every event.
    if (this.eventsSettled) {
      flow.pause();
      void this.eventsSettled.then(
        () => flow.resume(),
        () => flow.resume(),
      );
    }
    const hash = createHash('sha256');
    const state: PartState = { name, hash, bytes: 0, data: () => undefined, end: () => undefined };
    this.part = state;
    const expected = this.partIndex === 0 ? 'manifest.json' : this.expectedParts[this.partIndex];
    this.partIndex++;
    if (type !== 'File' || name !== expected) {
      this.fail(
        Stage.Archive,
        'malformed',
        `entry ${this.partIndex} is ${type} ${name}, expected ${expected ?? 'none'}`,
      );
      return;
    }
    if (this.halted) return;
    const collect = (onEnd: (text: string) => void): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      state.data = (chunk) => {
        size += chunk.length;
        if (size <= MAX_SMALL_PART) chunks.push(chunk);
      };
      state.end = () => {
        if (size > MAX_SMALL_PART)
          this.fail(Stage.Archive, 'malformed', `${name} is larger than ${MAX_SMALL_PART} bytes`);
        else onEnd(Buffer.concat(chunks).toString('utf8'));
      };
    };
    const guarded = (f: (chunk: Buffer) => void) => (chunk: Buffer) => {
      try {
        f(chunk);
      } catch (e) {
        if (!(e instanceof LineTooLong)) throw e;
        this.fail(Stage.Archive, 'malformed', `${name}: ${e.message}`);
      }
    };
    const lines = (onLine: (text: string, line: number) => void, onEnd: () => void): void => {
      const splitter = new LineSplitter(onLine);
      state.data = guarded((chunk) => splitter.data(chunk));
      state.end = () => {
        if (splitter.end() !== '') this.fail(Stage.Archive, 'malformed', `${name} does not end with a newline`);
        else onEnd();
      };
    };
    switch (name) {
      case 'manifest.json':
        return collect((text) => this.readManifest(text));
      case 'keys.json':
        return collect((text) => this.readKeys(text));
      case 'checkpoints.jsonl':
        return lines(
          (text, line) => this.readCheckpoint(text, line),
          () => this.checkpointsDone(),
        );
      case 'proofs.json':
        return collect((text) => this.readProofs(text));
      case 'events.jsonl': {
        const events = this.events;
        const m = this.manifest;
        if (!events || !m) return;
        const workers = this.opts.workers ?? defaultWorkers(events.expectedCount);
        if (workers === 0) {
          return lines(
            (text) => events.line(text),
            () => this.eventsDone(events),
          );
        }
        const pool = new EventPool(
          workers,
          { orgId: m.orgId, format: m.format },
          (batch, r) => events.batch(batch, r),
          (paused) => (paused ? flow.pause() : flow.resume()),
        );
        this.pool = pool;
        const batcher = new LineBatcher(BATCH_BYTES, (batch) => pool.submit(batch));
        // Once an event is found wrong the rest of the part is only hashed, not sent to the workers.
        state.data = guarded((chunk) => {
          if (!events.done) batcher.data(chunk);
        });
        state.end = () => {
          const rest = events.done ? Buffer.alloc(0) : batcher.end();
          this.eventsSettled = pool.settled().then(
            () => {
              if (rest.length > 0) this.fail(Stage.Archive, 'malformed', 'events.jsonl does not end with a newline');
              else this.eventsDone(events);
            },
            (e: unknown) => {
              throw new WorkerFailure(e);
            },
          );
          // Handled by `settled`; not an unhandled rejection meanwhile.
          this.eventsSettled.catch(() => undefined);
        };
        return;
      }
      default: {
        const view = this.viewCheck;
        if (!view) return;
        state.data = (chunk) => view.data(chunk);
        state.end = () => {
          const f = view.end(hash.copy().digest('hex'));
          if (f) this.fail(Stage.View, 'bad_view', f.message, f.seq);
        };
      }
    }
  }

  data(chunk: Buffer): void {
    const part = this.part;
    if (!part) return;
    part.hash.update(chunk);
    part.bytes += chunk.length;
    if (!this.halted) part.data(chunk);
  }

  endPart(): void {
    const part = this.part;
    if (!part) return;
    this.part = null;
    // A part that began while workers were still placing events ends after them too (even an empty one).
    if (this.eventsSettled && part.name !== 'events.jsonl') {
      this.deferred = this.deferred
        .then(() => this.finishPart(part))
        .catch((e: unknown) => {
          this.deferredError ??= new WorkerFailure(e);
        });
    } else {
      this.finishPart(part);
    }
  }

  private finishPart(part: PartState): void {
    if (!this.halted) part.end();
    if (part.name === 'manifest.json' || !this.manifest) return;
    const listed = this.manifest.parts[part.name];
    const sha256 = part.hash.digest('hex');
    if (listed && (listed.sha256 !== sha256 || listed.bytes !== part.bytes)) {
      this.fail(Stage.Digests, 'malformed', `${part.name}: its sha256 or size is not the one in the manifest`);
    }
  }

  private readManifest(text: string): void {
    const parsed = parseJson(text, BundleManifest);
    if (!parsed.ok) return this.fail(Stage.Archive, 'malformed', `manifest.json: ${parsed.error}`);
    const m = parsed.value;
    if (m.origin !== auditOrigin(m.orgId)) {
      return this.fail(Stage.Archive, 'malformed', `manifest.json: origin ${m.origin} is not the org's log`);
    }
    this.expectedParts = bundlePartNames(m.format);
    const listed = Object.keys(m.parts).sort();
    const expected = this.expectedParts.slice(1).sort();
    if (listed.join() !== expected.join()) {
      return this.fail(Stage.Archive, 'malformed', `manifest.json: parts ${listed.join(', ')}, expected ${expected}`);
    }
    this.manifest = m;
  }

  private readKeys(text: string): void {
    const parsed = parseJson(text, BundleKeys);
    if (!parsed.ok) return this.fail(Stage.Checkpoints, 'malformed', `keys.json: ${parsed.error}`);
    this.keyCount = parsed.value.length;
    const own: VerifierKey[] = [];
    for (const k of parsed.value) {
      try {
        const key = parseVerifierKey(k.vkey);
        if (key.name !== k.name) throw new Error(`key ${k.name} has a verifier key named ${key.name}`);
        own.push(key);
      } catch (e) {
        return this.fail(Stage.Checkpoints, 'malformed', `keys.json: ${(e as Error).message}`);
      }
    }
    this.verifyKeys = this.trusted ?? own;
  }

  private readCheckpoint(text: string, line: number): void {
    if (this.halted || !this.manifest) return;
    const parsed = parseJson(text, BundleCheckpointLine);
    if (!parsed.ok) return this.fail(Stage.Checkpoints, 'malformed', `checkpoints.jsonl line ${line}: ${parsed.error}`);
    let cp;
    try {
      cp = openNote(parsed.value.note, this.verifyKeys);
    } catch (e) {
      if (!(e instanceof NoteError)) throw e;
      const whose = this.trusted ? 'the trusted keys' : "the bundle's keys";
      const message = `checkpoint ${line}: ${e.message}${e.code === 'unknown_key' ? ` (checked against ${whose})` : ''}`;
      return this.fail(Stage.Checkpoints, e.code, message);
    }
    if (cp.origin !== this.manifest.origin) {
      return this.fail(Stage.Checkpoints, 'malformed', `checkpoint ${line} is of ${cp.origin}, not this org's log`);
    }
    const before = this.checkpoints[this.checkpoints.length - 1];
    if (before && (cp.size < before.size || cp.time < before.time)) {
      return this.fail(
        Stage.Checkpoints,
        'malformed',
        `checkpoint ${line} (size ${cp.size}) is older than the one before`,
      );
    }
    if (before && cp.size === before.size && !cp.root.equals(before.root)) {
      return this.fail(
        Stage.Checkpoints,
        'bad_proof',
        `checkpoints ${line - 1} and ${line}: two roots for size ${cp.size}`,
      );
    }
    this.keysUsed.add(`${cp.keyName}+${cp.keyHash.toString('hex')}`);
    this.checkpoints.push({ size: cp.size, root: cp.root, time: cp.time });
  }

  private checkpointsDone(): void {
    const m = this.manifest;
    if (!m) return;
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (!last) return this.fail(Stage.Checkpoints, 'malformed', 'checkpoints.jsonl: no checkpoint');
    if (last.size !== m.treeSize) {
      this.fail(
        Stage.Checkpoints,
        'malformed',
        `the last checkpoint's size ${last.size} is not treeSize ${m.treeSize}`,
      );
    }
  }

  private readProofs(text: string): void {
    const m = this.manifest;
    if (!m || this.checkpoints.length === 0) return;
    const parsed = parseJson(text, BundleProofs);
    if (!parsed.ok) return this.fail(Stage.Checkpoints, 'malformed', `proofs.json: ${parsed.error}`);
    const { inclusion, consistency } = parsed.value;
    const first = this.checkpoints[0];
    const last = this.checkpoints[this.checkpoints.length - 1];
    const hashes = (list: string[]): Buffer[] => list.map((h) => Buffer.from(h, 'base64'));
    if (consistency.from !== first.size || consistency.to !== last.size) {
      return this.fail(
        Stage.Checkpoints,
        'bad_proof',
        'the consistency proof is not between the first and last checkpoint',
      );
    }
    if (!verifyConsistency(first.size, last.size, first.root, last.root, hashes(consistency.hashes))) {
      return this.fail(
        Stage.Checkpoints,
        'bad_proof',
        `the tree of checkpoint size ${last.size} does not extend the tree of size ${first.size}`,
      );
    }
    if (inclusion.treeSize !== last.size) {
      return this.fail(Stage.Checkpoints, 'bad_proof', 'the inclusion proof is not against the last checkpoint');
    }
    let ranges: LeafRange[];
    try {
      ranges = normalizeRanges(inclusion.ranges, last.size);
    } catch (e) {
      return this.fail(Stage.Checkpoints, 'bad_proof', `inclusion proof: ${(e as Error).message}`);
    }
    this.proofs = { ranges, hashes: hashes(inclusion.hashes) };
    // An unfiltered export is the whole log: its events are checked against every seq, not the proof's ranges.
    const expected: LeafRange[] = isUnfiltered(m.filters) ? (last.size > 0 ? [[0, last.size]] : []) : ranges;
    const view = viewOf(m.format);
    this.viewCheck = view ? new ViewChecker(view, expected) : null;
    // The whole log: its tree is hashed as the events stream by, and every checkpoint's root checked.
    const wholeLog = expected.length === 1 && expected[0][0] === 0 && expected[0][1] === last.size;
    const sizes = wholeLog ? this.checkpoints.map((c) => c.size) : null;
    this.events = new EventChecker(m.orgId, expected, this.viewCheck, this.opts.onProgress, sizes);
  }

  private eventsDone(events: EventChecker): void {
    const f = events.end();
    if (f) return this.fail(Stage.Events, f.kind, f.message, f.seq);
    const m = this.manifest;
    const proofs = this.proofs;
    if (!m || !proofs) return;
    const last = this.checkpoints[this.checkpoints.length - 1];
    const expected = events.expected;
    if (JSON.stringify(proofs.ranges) !== JSON.stringify(expected)) {
      return this.fail(Stage.Inclusion, 'bad_proof', "the inclusion proof's ranges are not the exported events");
    }
    const range = expected.length > 0 ? { fromSeq: expected[0][0] + 1, toSeq: expected[expected.length - 1][1] } : null;
    if (JSON.stringify(range) !== JSON.stringify(m.range)) {
      this.fail(
        Stage.Digests,
        'malformed',
        `manifest.json: range is not the exported events' (${JSON.stringify(range)})`,
      );
    }
    try {
      if (expected.length === 1 && expected[0][0] === 0 && expected[0][1] === last.size) {
        // The whole log: every checkpoint's root was recomputed from the leaves as they came.
        if (proofs.hashes.length > 0) {
          return this.fail(Stage.Inclusion, 'bad_proof', 'inclusion proof: hashes for a tree that is all exported');
        }
        const roots = events.prefixRoots();
        const bad = this.checkpoints.findIndex((c, i) => !c.root.equals(roots[i]));
        if (bad >= 0) {
          // The checkpoint before it matched: what changed lies between the two.
          const from = bad > 0 ? this.checkpoints[bad - 1].size + 1 : 1;
          const cp = this.checkpoints[bad];
          return this.fail(
            Stage.Inclusion,
            'bad_proof',
            `checkpoint ${bad + 1} signs another tree of size ${cp.size} than the exported events make: ` +
              `an event among seq ${from} to ${cp.size} was changed along with its recorded leaf, or the checkpoint is of another history`,
          );
        }
      } else {
        const root = rootFromBatch(last.size, { ranges: expected, hashes: events.leaves() }, proofs.hashes);
        if (!root.equals(last.root)) {
          return this.fail(
            Stage.Inclusion,
            'bad_proof',
            `the events and the inclusion proof lead to a root that is not the signed one of size ${last.size}`,
          );
        }
      }
    } catch (e) {
      if (!(e instanceof ProofError)) throw e;
      return this.fail(Stage.Inclusion, 'bad_proof', `inclusion proof ${e.reason}: ${e.message}`);
    }
  }

  finish(sha256: string, expectedSha256: string | undefined): VerifyReport {
    const m = this.manifest;
    if (!this.failure && this.partIndex < this.expectedParts.length) {
      this.fail(
        Stage.Archive,
        'malformed',
        `the bundle ends before ${this.expectedParts[this.partIndex] ?? 'its parts'}`,
      );
    }
    if (!this.failure && (!m || !this.events || !this.events.done)) {
      this.fail(Stage.Archive, 'malformed', 'the bundle is incomplete');
    }
    if (m && this.events && !this.failure) {
      const counts = { events: this.events.count, checkpoints: this.checkpoints.length, keys: this.keyCount };
      if (JSON.stringify(counts) !== JSON.stringify(m.counts)) {
        this.fail(Stage.Digests, 'malformed', `manifest.json: counts are not the bundle's (${JSON.stringify(counts)})`);
      }
    }
    if (expectedSha256 && expectedSha256 !== sha256) {
      this.fail(Stage.Archive, 'malformed', `the bundle's sha256 is ${sha256}, not ${expectedSha256}`);
    }
    if (this.failure || !m || !this.events) {
      const f = this.failure ?? { seq: null, kind: 'malformed' as const, message: 'the bundle is incomplete' };
      return { ok: false, seq: f.seq, kind: f.kind, message: f.message };
    }
    const last = this.checkpoints[this.checkpoints.length - 1];
    return {
      ok: true,
      orgId: m.orgId,
      format: m.format,
      filters: m.filters,
      events: this.events.count,
      range: m.range,
      checkpoints: this.checkpoints.length,
      treeSize: last.size,
      root: last.root.toString('base64'),
      redacted: { count: this.events.redactedCount, rules: [...this.events.redactedRules].sort() },
      keys: [...this.keysUsed].sort(),
      keysTrusted: this.trusted !== null,
      sha256,
    };
  }
}

function parseJson<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: issueText(parsed.error.issues) };
}
