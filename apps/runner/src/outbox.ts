import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ItemDraft } from '@yoke/protocol';
import { writeFileAtomic, writeFileAtomicAsync } from './files';

/**
 * A session's on-disk outbox: every item is appended to the file when it is made, flushed to the disk (fsync) before
 * it is sent, and stays until the server acknowledged its seq. After a crash or restart the unacknowledged tail is
 * read back and sent again; the server's unique (session, seq) makes the replay idempotent.
 *
 * The flush is one `fsync` for every item appended since the last one (a turn's start writes several items at once),
 * off the event loop: a runner process killed before it still has its items (they are in the file), and a machine that
 * stops before it never sent them, so the server never holds an item the runner could number again.
 */
export class Outbox {
  private readonly file: string;
  private readonly ackFile: string;
  private items: ItemDraft[] = [];
  private ackedSeq = 0;
  private lastSeq = 0;
  /** Every item up to this seq is flushed to the disk: only those may be sent. */
  private durableSeq = 0;
  private syncing: Promise<void> | null = null;
  private ackWrites: Promise<void> = Promise.resolve();
  private ackQueued = false;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'outbox.jsonl');
    this.ackFile = join(dir, 'acked');
    this.load();
    this.durableSeq = this.lastSeq; // what an earlier run wrote is read back from the file
  }

  /** Prepares a new session's outbox to number its items after `seq` (a fork starts after the copied items). */
  static startAfter(dir: string, seq: number): void {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'acked'))) writeFileAtomic(join(dir, 'acked'), String(seq));
  }

  /** The seq the next item gets. */
  get nextSeq(): number {
    return this.lastSeq + 1;
  }

  get acked(): number {
    return this.ackedSeq;
  }

  get last(): number {
    return this.lastSeq;
  }

  /** Items not yet acknowledged, in seq order. */
  pending(limit = Infinity): ItemDraft[] {
    return this.items.slice(0, limit);
  }

  /**
   * Up to `limit` unacknowledged items after `seq` that are flushed to the disk, in seq order (the pending items' seqs
   * are consecutive). `sync()` makes the rest sendable.
   */
  pendingAfter(seq: number, limit: number): ItemDraft[] {
    if (this.items.length === 0) return [];
    const from = Math.max(0, seq - this.items[0].seq + 1);
    const durable = this.durableSeq - this.items[0].seq + 1;
    return this.items.slice(from, Math.min(from + limit, Math.max(from, durable)));
  }

  get hasPending(): boolean {
    return this.items.length > 0;
  }

  /** The last seq flushed to the disk. */
  get durable(): number {
    return this.durableSeq;
  }

  /**
   * Flushes every item appended so far to the disk, with one fsync off the event loop; resolves once they are durable.
   * Calls made while a flush runs wait for it and then flush what came after it, once.
   */
  sync(): Promise<void> {
    if (this.durableSeq >= this.lastSeq) return Promise.resolve();
    if (this.syncing) return this.syncing.then(() => this.sync());
    const target = this.lastSeq;
    const flush = async () => {
      const handle = await open(this.file, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (target > this.durableSeq) this.durableSeq = target;
    };
    this.syncing = flush().finally(() => (this.syncing = null));
    return this.syncing;
  }

  /** Stamps the next seq on an item and writes it to the file before anything else sees it (`sync()` flushes it). */
  append(item: Omit<ItemDraft, 'seq'>): ItemDraft {
    const draft = { ...item, seq: this.nextSeq } as ItemDraft;
    const fd = openSync(this.file, 'a', 0o600);
    try {
      appendFileSync(fd, `${JSON.stringify(draft)}\n`);
    } finally {
      closeSync(fd);
    }
    this.items.push(draft);
    this.lastSeq = draft.seq;
    return draft;
  }

  /** The server holds every item up to `seq`: drop them, and compact the file once nothing is pending. */
  ack(seq: number): void {
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = Math.min(seq, this.lastSeq);
    // Pending seqs are consecutive: everything up to ackedSeq is a prefix.
    const done = this.items.length === 0 ? 0 : Math.max(0, this.ackedSeq - this.items[0].seq + 1);
    this.items.splice(0, done);
    this.persistAck();
  }

  /**
   * Records the acknowledged seq on the disk, off the event loop, then empties the file if nothing is pending then.
   * An older record after a crash only resends what the server skips; the file is emptied only once the record is
   * durable, so the seqs never start again below what the server holds. Acks that come while one is written are
   * recorded together by the next write.
   */
  private persistAck(): void {
    if (this.ackQueued) return;
    this.ackQueued = true;
    this.ackWrites = this.ackWrites.then(async () => {
      this.ackQueued = false;
      const seq = this.ackedSeq;
      try {
        await writeFileAtomicAsync(this.ackFile, String(seq));
      } catch {
        return; // the next ack writes it again; until then a restart resends what the server skips
      }
      if (this.items.length === 0 && this.lastSeq === seq) truncateSync(this.file, 0);
    });
  }

  /** Resolves once what was appended and acknowledged so far is on the disk (a session closing, a test). */
  async settled(): Promise<void> {
    await this.sync();
    await this.ackWrites;
  }

  private load(): void {
    if (existsSync(this.ackFile)) this.ackedSeq = Number(readFileSync(this.ackFile, 'utf8').trim()) || 0;
    this.lastSeq = this.ackedSeq;
    if (!existsSync(this.file)) return;
    let torn = false;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      let draft: ItemDraft;
      try {
        draft = JSON.parse(line) as ItemDraft;
      } catch {
        torn = true; // a torn last line from a crash mid-write: it was never sent
        break;
      }
      if (draft.seq > this.lastSeq) this.lastSeq = draft.seq;
      if (draft.seq > this.ackedSeq) this.items.push(draft);
    }
    if (torn) writeFileAtomic(this.file, this.items.map((i) => `${JSON.stringify(i)}\n`).join(''));
  }
}
