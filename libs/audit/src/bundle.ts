import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { AUDIT_SCHEMA, AuditEvent, type AuditExportFormat } from '@yoke/protocol';
import {
  BUNDLE_FORMAT,
  BUNDLE_PARTS,
  type BundleContent,
  type BundleFilters,
  type BundleKey,
  type BundleManifest,
  type BundleProofs,
  bundlePartNames,
} from './bundle-format';
import { canonicalJson } from './canonical';
import { batchProof, consistencyProof, type SubtreeHasher } from './merkle';
import { auditOrigin, openNote, type OpenedCheckpoint } from './note';
import { viewOf } from './views';

export interface BundleEventInput {
  /** Where the store keeps the event (its row's seq); the event's own `seq` when absent. */
  seq?: number;
  event: AuditEvent;
  /** The leaf hash recorded when the event was appended. */
  leaf: Buffer;
  content: BundleContent;
}

export interface WriteBundleOptions {
  orgId: string;
  /** `yoke/audit/<orgId>`: every checkpoint must carry it. */
  origin: string;
  format: AuditExportFormat;
  filters: BundleFilters;
  /** Every key that signed a checkpoint in `checkpoints` (retired ones included). */
  keys: BundleKey[];
  /** Signed notes, ascending size: the last one's size is the tree the events are proven in. */
  checkpoints: string[];
  /** The exported events, ascending seq, none past the last checkpoint's size. */
  events: AsyncIterable<BundleEventInput>;
  /** Hash of leaves [lo, hi) of the org's tree, for the proofs. */
  subtreeHash: SubtreeHasher;
  /** Called every 1,000 events and at the end with the number written so far. */
  onProgress?: (eventsWritten: number) => void;
  /** For reproducible bundles in tests; default now. */
  createdAt?: Date;
}

export interface WrittenBundle {
  events: number;
  bytes: number;
  /** Hex SHA-256 of the .tar.gz: publish it beside the bundle so a reader can tell it is the one exported. */
  sha256: string;
}

/** What would make the bundle unreadable (seqs out of order or past the last checkpoint, unknown keys). */
export class BundleWriteError extends Error {
  override name = 'BundleWriteError';
}

const PROGRESS_EVERY = 1000;
const FLUSH_BYTES = 1 << 16;

/** A part written through a stream, hashed and counted on the way, in 64 KiB writes with backpressure. */
class PartWriter {
  private readonly hash: Hash = createHash('sha256');
  private readonly out: WriteStream;
  private pending: string[] = [];
  private pendingLength = 0;
  private bytes = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= FLUSH_BYTES) await this.flush();
  }

  async close(): Promise<{ sha256: string; bytes: number }> {
    await this.flush();
    this.out.end();
    await once(this.out, 'close');
    return { sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  destroy(): void {
    this.out.destroy();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    this.hash.update(chunk);
    this.bytes += chunk.length;
    // `once` rejects if the stream errors first (disk full…).
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}

async function writePart(dir: string, name: string, text: string): Promise<{ sha256: string; bytes: number }> {
  const data = Buffer.from(text, 'utf8');
  await writeFile(join(dir, name), data);
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

function openCheckpoints(opts: WriteBundleOptions): OpenedCheckpoint[] {
  if (opts.origin !== auditOrigin(opts.orgId)) {
    throw new BundleWriteError(`origin ${opts.origin} is not ${auditOrigin(opts.orgId)}`);
  }
  if (opts.checkpoints.length === 0) throw new BundleWriteError('a bundle needs at least one checkpoint');
  const vkeys = opts.keys.map((k) => k.vkey);
  const opened = opts.checkpoints.map((note) => openNote(note, vkeys));
  opened.forEach((cp, i) => {
    if (cp.origin !== opts.origin) throw new BundleWriteError(`checkpoint ${i} is of ${cp.origin}`);
    const before = opened[i - 1];
    if (before && (cp.size < before.size || cp.time < before.time)) {
      throw new BundleWriteError(`checkpoint ${i} (size ${cp.size}) comes before checkpoint ${i - 1}`);
    }
  });
  return opened;
}

/**
 * Writes an audit bundle to `outFile` (see bundle-format.ts), streaming: memory stays flat whatever the number of
 * events (the included ranges are kept run-length). Parts go to a temporary directory beside `outFile`, then into
 * the archive; the archive appears at `outFile` only once complete. Writes events as the store holds them, even
 * when they no longer verify (that is the verifier's finding to report); refuses (BundleWriteError) only seqs out of
 * order or past the last checkpoint, and a checkpoint that does not open with `keys`.
 */
export async function writeBundle(outFile: string, opts: WriteBundleOptions): Promise<WrittenBundle> {
  const checkpoints = openCheckpoints(opts);
  const first = checkpoints[0];
  const last = checkpoints[checkpoints.length - 1];
  const treeSize = last.size;
  const view = viewOf(opts.format);
  const dir = await mkdtemp(join(dirname(outFile), `.${basename(outFile)}-`));
  const partial = `${outFile}.partial`;
  const writers: PartWriter[] = [];
  try {
    const eventsOut = new PartWriter(join(dir, BUNDLE_PARTS.events));
    writers.push(eventsOut);
    const viewOut = view ? new PartWriter(join(dir, view.part)) : null;
    if (viewOut) writers.push(viewOut);
    if (view && viewOut) await viewOut.write(view.header);

    const ranges: [number, number][] = [];
    let previous = 0;
    let count = 0;
    for await (const { seq: stored, event: input, leaf, content } of opts.events) {
      // The bundle is evidence: it carries what the store holds, exactly. Whether an event still hashes to its
      // leaf, seqs have gaps, or content matches is for the verifier to say (and to name), not for the writer to
      // hide by refusing. Only what would make the bundle unreadable is refused.
      const parsed = AuditEvent.safeParse(input);
      const seq = stored ?? (typeof input.seq === 'number' ? input.seq : Number.NaN);
      if (!Number.isSafeInteger(seq) || seq <= previous) {
        throw new BundleWriteError(`event seq ${String(input.seq)} after seq ${previous}`);
      }
      if (seq > treeSize) throw new BundleWriteError(`event seq ${seq} is past the last checkpoint (${treeSize})`);
      const text = canonicalJson(input);
      await eventsOut.write(
        `{"seq":${seq},"leaf":"${leaf.toString('hex')}","event":${text},"content":${JSON.stringify(content)}}\n`,
      );
      if (view && viewOut && parsed.success) await viewOut.write(view.row(parsed.data));
      const run = ranges[ranges.length - 1];
      if (run && run[1] === seq - 1) run[1] = seq;
      else ranges.push([seq - 1, seq]);
      previous = seq;
      count++;
      if (count % PROGRESS_EVERY === 0) opts.onProgress?.(count);
    }
    opts.onProgress?.(count);

    const parts: BundleManifest['parts'] = {};
    parts[BUNDLE_PARTS.events] = await eventsOut.close();
    if (view && viewOut) parts[view.part] = await viewOut.close();
    writers.length = 0;

    const proofs: BundleProofs = {
      inclusion: {
        treeSize,
        ranges,
        hashes: (await batchProof(treeSize, ranges, opts.subtreeHash)).map((h) => h.toString('base64')),
      },
      consistency: {
        from: first.size,
        to: last.size,
        hashes: (await consistencyProof(first.size, last.size, opts.subtreeHash)).map((h) => h.toString('base64')),
      },
    };
    parts[BUNDLE_PARTS.proofs] = await writePart(dir, BUNDLE_PARTS.proofs, `${JSON.stringify(proofs)}\n`);
    parts[BUNDLE_PARTS.checkpoints] = await writePart(
      dir,
      BUNDLE_PARTS.checkpoints,
      opts.checkpoints.map((note) => `${JSON.stringify({ note })}\n`).join(''),
    );
    parts[BUNDLE_PARTS.keys] = await writePart(dir, BUNDLE_PARTS.keys, `${JSON.stringify(opts.keys, null, 2)}\n`);

    const createdAt = opts.createdAt ?? new Date();
    const manifest: BundleManifest = {
      bundle: BUNDLE_FORMAT,
      schema: AUDIT_SCHEMA,
      orgId: opts.orgId,
      origin: opts.origin,
      createdAt: createdAt.toISOString(),
      format: opts.format,
      filters: opts.filters,
      range: count > 0 ? { fromSeq: ranges[0][0] + 1, toSeq: previous } : null,
      treeSize,
      counts: { events: count, checkpoints: opts.checkpoints.length, keys: opts.keys.length },
      parts,
    };
    await writePart(dir, BUNDLE_PARTS.manifest, `${JSON.stringify(manifest, null, 2)}\n`);

    const sha = createHash('sha256');
    let bytes = 0;
    const pack = tar.c({ cwd: dir, portable: true, mtime: createdAt }, bundlePartNames(opts.format));
    await pipeline(
      pack,
      // Node's gzip runs on the thread pool (tar's own gzip would compress on this thread).
      createGzip(),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          sha.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(partial),
    );
    await rename(partial, outFile);
    return { events: count, bytes, sha256: sha.digest('hex') };
  } finally {
    for (const w of writers) w.destroy();
    await rm(dir, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}
