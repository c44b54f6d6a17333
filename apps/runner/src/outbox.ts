import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ItemDraft } from '@yoke/protocol';
import { writeFileAtomic } from './files';

/**
 * A session's on-disk outbox: every item is appended (and flushed) before it is sent, and stays until the server
 * acknowledged its seq. After a crash or restart the unacknowledged tail is read back and sent again; the
 * server's unique (session, seq) makes the replay idempotent.
 */
export class Outbox {
  private readonly file: string;
  private readonly ackFile: string;
  private items: ItemDraft[] = [];
  private ackedSeq = 0;
  private lastSeq = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'outbox.jsonl');
    this.ackFile = join(dir, 'acked');
    this.load();
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

  /** Up to `limit` unacknowledged items after `seq`, in seq order (the pending items' seqs are consecutive). */
  pendingAfter(seq: number, limit: number): ItemDraft[] {
    if (this.items.length === 0) return [];
    const from = Math.max(0, seq - this.items[0].seq + 1);
    return this.items.slice(from, from + limit);
  }

  get hasPending(): boolean {
    return this.items.length > 0;
  }

  /** Stamps the next seq on an item and makes it durable before anything else sees it. */
  append(item: Omit<ItemDraft, 'seq'>): ItemDraft {
    const draft = { ...item, seq: this.nextSeq } as ItemDraft;
    const fd = openSync(this.file, 'a', 0o600);
    try {
      appendFileSync(fd, `${JSON.stringify(draft)}\n`);
      fsyncSync(fd);
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
    writeFileAtomic(this.ackFile, String(this.ackedSeq));
    // Pending seqs are consecutive: everything up to ackedSeq is a prefix.
    const done = this.items.length === 0 ? 0 : Math.max(0, this.ackedSeq - this.items[0].seq + 1);
    this.items.splice(0, done);
    if (this.items.length === 0) truncateSync(this.file, 0);
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
