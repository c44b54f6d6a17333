import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AuditEvent } from '@yoke/protocol';
import type { LeafRange } from './merkle';
import type { BundleView } from './views';

export interface ViewFailure {
  seq: number | null;
  kind: 'bad_view';
  message: string;
}

/**
 * Compares a view (CSV, OCSF) with the rows rendered again from the verified events, as it streams: a length and
 * CRC-32 per row (8 bytes) name the first row that differs; SHA-256 of the whole gives the verdict (a CRC can be
 * forged, a digest cannot).
 */
export class ViewChecker {
  private lengths = new Uint32Array(1024);
  private crcs = new Uint32Array(1024);
  private rows = 0;
  private readonly expectedHash = createHash('sha256');
  private readonly header: Buffer;
  /** Reading the actual view: segment -1 is the header, then rows. */
  private segment = -1;
  private remaining: number;
  private crc = 0;
  private failure: ViewFailure | null = null;

  constructor(
    readonly view: BundleView,
    private readonly ranges: readonly LeafRange[],
  ) {
    this.header = Buffer.from(view.header, 'utf8');
    this.expectedHash.update(this.header);
    this.remaining = this.header.length;
  }

  /** The next event's row, rendered here. */
  addRow(event: AuditEvent): void {
    this.addRendered(Buffer.from(this.view.row(event), 'utf8'));
  }

  /** The next event's row, rendered elsewhere (a worker) from the same event. */
  addRendered(row: Buffer): void {
    if (this.rows === this.lengths.length) {
      const lengths = new Uint32Array(this.rows * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
      const crcs = new Uint32Array(this.rows * 2);
      crcs.set(this.crcs);
      this.crcs = crcs;
    }
    this.lengths[this.rows] = row.length;
    this.crcs[this.rows] = crc32(row);
    this.rows++;
    this.expectedHash.update(row);
  }

  data(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.failure) {
      if (this.segment >= this.rows) {
        this.failure = { seq: null, kind: 'bad_view', message: `${this.view.part} goes on after its last row` };
        return;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      this.crc = crc32(chunk.subarray(at, at + take), this.crc);
      at += take;
      this.remaining -= take;
      if (this.remaining === 0) this.nextSegment();
    }
  }

  end(actualSha256: string): ViewFailure | null {
    if (this.failure) return this.failure;
    if (this.segment === -1 && this.remaining === 0) this.nextSegment();
    if (this.failure) return this.failure;
    if (this.segment < this.rows) {
      const seq = this.segment < 0 ? null : this.seqOf(this.segment);
      const before = seq === null ? 'its rows' : `the row of seq ${seq}`;
      return { seq, kind: 'bad_view', message: `${this.view.part} ends before ${before}` };
    }
    if (this.expectedHash.digest('hex') !== actualSha256) {
      return { seq: null, kind: 'bad_view', message: `${this.view.part} is not the view of the events` };
    }
    return null;
  }

  private nextSegment(): void {
    const expected = this.segment < 0 ? crc32(this.header) : this.crcs[this.segment];
    if (this.crc !== expected) {
      const seq = this.segment < 0 ? null : this.seqOf(this.segment);
      const what = seq === null ? 'its header' : `the row of seq ${seq}`;
      this.failure = { seq, kind: 'bad_view', message: `${this.view.part}: ${what} is not rendered from the event` };
      return;
    }
    this.segment++;
    this.crc = 0;
    this.remaining = this.segment < this.rows ? this.lengths[this.segment] : 0;
  }

  /** Seq of the i-th exported event: the i-th leaf of the ranges, plus one. */
  private seqOf(index: number): number {
    let left = index;
    for (const [lo, hi] of this.ranges) {
      if (left < hi - lo) return lo + left + 1;
      left -= hi - lo;
    }
    return -1;
  }
}
