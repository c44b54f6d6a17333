import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from './outbox';

const note = (text: string) => ({
  type: 'notice' as const,
  level: 'info' as const,
  text,
  createdAt: new Date(0).toISOString(),
});

describe('Outbox', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'outbox-'));

  it('numbers items from 1 and keeps unacknowledged ones across a restart', async () => {
    const d = dir();
    const a = new Outbox(d);
    expect(a.append(note('a')).seq).toBe(1);
    expect(a.append(note('b')).seq).toBe(2);
    expect(a.append(note('c')).seq).toBe(3);
    a.ack(1);
    await a.settled();
    const b = new Outbox(d); // as after SIGKILL
    expect(b.pending().map((i) => i.seq)).toEqual([2, 3]);
    expect(b.nextSeq).toBe(4);
  });

  it('never reuses a seq once everything was acknowledged and compacted', async () => {
    const d = dir();
    const a = new Outbox(d);
    a.append(note('a'));
    a.append(note('b'));
    a.ack(2);
    await a.settled();
    expect(readFileSync(join(d, 'outbox.jsonl'), 'utf8')).toBe('');
    const b = new Outbox(d);
    expect(b.hasPending).toBe(false);
    expect(b.append(note('c')).seq).toBe(3);
  });

  it('drops a torn last line left by a crash mid-write and carries on after it', () => {
    const d = dir();
    const a = new Outbox(d);
    a.append(note('a'));
    appendFileSync(join(d, 'outbox.jsonl'), '{"seq":2,"type":"not');
    const b = new Outbox(d);
    expect(b.pending().map((i) => i.seq)).toEqual([1]);
    expect(b.append(note('b')).seq).toBe(2);
    expect(new Outbox(d).pending().map((i) => i.seq)).toEqual([1, 2]);
  });

  it('ignores stale or future acknowledgements safely', () => {
    const a = new Outbox(dir());
    a.append(note('a'));
    a.ack(0);
    expect(a.pending()).toHaveLength(1);
    a.ack(99);
    expect(a.acked).toBe(1);
    expect(a.append(note('b')).seq).toBe(2);
  });
});

describe('Outbox.pendingAfter', () => {
  it('hands out the unacknowledged items after a seq, a batch at a time, and nothing once they are acknowledged', async () => {
    const a = new Outbox(mkdtempSync(join(tmpdir(), 'outbox-')));
    for (let i = 1; i <= 10; i++) a.append(note(`n${i}`));
    await a.sync();
    a.ack(3);
    expect(a.pendingAfter(0, 4).map((i) => i.seq)).toEqual([4, 5, 6, 7]);
    expect(a.pendingAfter(5, 4).map((i) => i.seq)).toEqual([6, 7, 8, 9]);
    expect(a.pendingAfter(9, 4).map((i) => i.seq)).toEqual([10]);
    expect(a.pendingAfter(10, 4)).toEqual([]);
    a.ack(7);
    expect(a.pendingAfter(3, 2).map((i) => i.seq)).toEqual([8, 9]);
    expect(a.pending().map((i) => i.seq)).toEqual([8, 9, 10]);
    a.ack(10);
    expect(a.pendingAfter(0, 4)).toEqual([]);
  });
});

describe('Outbox: flushed to the disk before it is sent, one fsync for a burst of items', () => {
  it('hands out nothing appended after the last flush; one flush makes the whole burst sendable', async () => {
    const a = new Outbox(mkdtempSync(join(tmpdir(), 'outbox-')));
    a.append(note('turn started'));
    a.append(note('user message'));
    expect(a.pendingAfter(0, 10)).toEqual([]);
    expect(a.durable).toBe(0);
    const flushing = a.sync();
    a.append(note('policy decision')); // written while the flush runs: the next flush takes it
    await flushing;
    expect(a.pendingAfter(0, 10).map((i) => i.seq)).toEqual([1, 2]);
    await a.sync();
    expect(a.pendingAfter(0, 10).map((i) => i.seq)).toEqual([1, 2, 3]);
  });

  it('reads back items written by a run that was killed before its flush, and sends them', () => {
    const d = mkdtempSync(join(tmpdir(), 'outbox-'));
    const a = new Outbox(d);
    a.append(note('a'));
    a.append(note('b')); // no sync: the process is killed here; the file holds both
    const b = new Outbox(d);
    expect(b.pendingAfter(0, 10).map((i) => i.seq)).toEqual([1, 2]);
    expect(b.nextSeq).toBe(3);
  });

  it('an acknowledgement not yet on the disk when the runner stops only resends what the server skips', async () => {
    const d = mkdtempSync(join(tmpdir(), 'outbox-'));
    const a = new Outbox(d);
    for (let i = 1; i <= 3; i++) a.append(note(`n${i}`));
    a.ack(3); // the file is not emptied before the ack is recorded
    const b = new Outbox(d);
    expect(b.nextSeq).toBe(4);
    expect(b.pending().map((i) => i.seq)).toEqual([1, 2, 3]);
    await a.settled();
    const c = new Outbox(d);
    expect(c.pending()).toEqual([]);
    expect(c.nextSeq).toBe(4);
  });
});
