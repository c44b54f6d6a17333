import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Delta } from '@yoke/protocol';
import { Outbox } from './outbox';
import { OutboxSender, type OutboxSource } from './outbox-sender';

const SESSION = '4b1f2d3c-0a1b-4c2d-8e3f-5a6b7c8d9e01';
const note = (text: string) => ({
  type: 'notice' as const,
  level: 'info' as const,
  text,
  createdAt: new Date(0).toISOString(),
});
const chunk = (text: string): Delta => ({ type: 'agent_message_delta', turnId: 't1', streamId: 's2', text });

/** Lets the outbox's flush to the disk (an fsync off the event loop) and the sends after it happen. */
async function until(check: () => boolean, withinMs = 1_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/** The runner's socket as the sender uses it: what goes out, in order; acks answered by the test. */
function fakeConnection() {
  const wire: string[] = [];
  const acks: ((reply: unknown) => void)[] = [];
  const socket = {
    emit: (event: string, payload: { afterSeq: number; delta: Delta }) =>
      wire.push(`${event} after ${payload.afterSeq} ${payload.delta.text}`),
    timeout: () => ({
      emitWithAck: (_event: string, batch: { items: { seq: number }[] }) => {
        wire.push(`items ${batch.items.map((i) => i.seq).join(',')}`);
        return new Promise((resolve) => acks.push(resolve));
      },
    }),
  };
  return { connection: { isReady: true, epoch: 1, socket } as never, wire, acks };
}

describe('OutboxSender: chunks never leave ahead of the items before them', () => {
  it('stamps each chunk with the last item emitted before it and sends it only after that item has left', async () => {
    const { connection, wire, acks } = fakeConnection();
    const outbox = new Outbox(mkdtempSync(join(tmpdir(), 'yoke-outbox-')));
    const source: OutboxSource = { sessionId: SESSION, outbox, traceparent: undefined };
    const sender = new OutboxSender(connection, new Map([[SESSION, source]]), pino({ level: 'silent' }), {
      batches: 1,
      batchItems: 100,
    });
    // A step's items, then at once the next stream's first chunks: the items leave first (one batch).
    outbox.append(note('tool call'));
    outbox.append(note('command'));
    sender.flush(SESSION);
    sender.sendDelta(SESSION, chunk('Then'));
    // Nothing leaves before the items are on the disk, the chunk neither.
    expect(wire).toEqual([]);
    await until(() => wire.length >= 2);
    expect(wire).toEqual(['items 1,2', 'session.delta after 2 Then']);

    // With the window full, the next items wait for an ack, and so do the chunks that follow them.
    outbox.append(note('usage'));
    sender.flush(SESSION);
    sender.sendDelta(SESSION, chunk(' next'));
    await until(() => outbox.durable === 3);
    await new Promise((r) => setImmediate(r));
    expect(wire).toHaveLength(2);
    acks[0]({ ok: true, lastSeq: 2 });
    await until(() => wire.length >= 4);
    expect(wire.slice(2)).toEqual(['items 3', 'session.delta after 3  next']);
  });

  it('sends nothing while the flush to the disk fails, and sends the items once a retry flushed them', async () => {
    const { connection, wire } = fakeConnection();
    const outbox = new Outbox(mkdtempSync(join(tmpdir(), 'yoke-outbox-')));
    const fsync = jest.spyOn(outbox, 'sync').mockRejectedValueOnce(new Error('EIO: i/o error, fsync'));
    const source: OutboxSource = { sessionId: SESSION, outbox, traceparent: undefined };
    const logged: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    const sender = new OutboxSender(connection, new Map([[SESSION, source]]), log, { batches: 1, batchItems: 100 });
    outbox.append(note('tool call'));
    sender.flush(SESSION);
    sender.sendDelta(SESSION, chunk('Then'));
    await until(() => logged.length > 0);
    // The failed flush leaves the items (and the chunk after them) on the runner, and says why.
    expect(wire).toEqual([]);
    expect(outbox.durable).toBe(0);
    expect(logged[0]).toContain('could not flush the outbox to the disk; retrying');
    // The sender tries again by itself (after SEND_RETRY_MS): the items leave once, then the chunk.
    await until(() => wire.length >= 2, 5_000);
    expect(fsync).toHaveBeenCalledTimes(2);
    expect(wire).toEqual(['items 1', 'session.delta after 1 Then']);
  });
});
