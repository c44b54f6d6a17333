import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { join } from 'node:path';
import { type ItemDraft, type ItemsAck, NS_RUNNER } from '@yoke/protocol';
import { Outbox } from '../../apps/runner/src/outbox';
import { OutboxSender, type OutboxSource, type OutboxWindow } from '../../apps/runner/src/outbox-sender';
import { RunnerConnection } from '../../apps/runner/src/runner-connection';
import { expectEventually } from '../support/env';
import { ROOT, tempDir } from '../support/processes';

/** The little of socket.io's server this peer uses (socket.io is a dependency of apps/server, not of the root). */
interface PeerSocket {
  on(event: string, handler: (...args: never[]) => void): void;
  conn: { close(): void };
}
interface PeerServer {
  of(nsp: string): { on(event: 'connection', handler: (socket: PeerSocket) => void): void };
  close(fn: () => void): void;
}
// The same socket.io the server runs.
const { Server } = require(require.resolve('socket.io', { paths: [join(ROOT, 'apps/server')] })) as {
  Server: new (http: unknown, opts: object) => PeerServer;
};

const SESSION = '11111111-1111-4111-8111-111111111111';

/**
 * A peer speaking the runner protocol over a real socket.io server on loopback, storing items the way the server's
 * appendItems does: replays skipped, a gap refused. Batches of a session are handled in arrival order and answered
 * after `delayMs`, so a pipelining runner has several in flight. `onBatch` may answer instead (a refusal, silence).
 */
async function startPeer(delayMs = 3) {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  const stored: ItemDraft[] = [];
  const received: ItemDraft[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let queue = Promise.resolve();
  const peer = {
    stored,
    received,
    get maxInFlight() {
      return maxInFlight;
    },
    /** Return an ack to send it instead of storing, or null to store nothing and never answer. */
    onBatch: (_socket: PeerSocket, _items: ItemDraft[], _n: number): ItemsAck | null | undefined => undefined,
    url: '',
    close: () => new Promise<void>((r) => void io.close(() => r())),
  };
  const lastSeq = () => stored[stored.length - 1]?.seq ?? 0;
  const store = (items: ItemDraft[]): ItemsAck => {
    const fresh = items.filter((i) => i.seq > lastSeq());
    if (fresh.length > 0 && fresh[0].seq !== lastSeq() + 1) {
      return { ok: false, error: { code: 'event.seq_gap', message: `expected seq ${lastSeq() + 1}` } };
    }
    stored.push(...fresh);
    return { ok: true, lastSeq: lastSeq() };
  };
  io.of(NS_RUNNER).on('connection', (socket) => {
    socket.on('runner.hello', (_body: unknown, ack: (r: unknown) => void) =>
      ack({ ok: true, runnerId: SESSION, sessions: [{ sessionId: SESSION, persistedSeq: lastSeq() }] }),
    );
    socket.on('session.items', (body: { items: ItemDraft[] }, ack: (r: ItemsAck) => void) => {
      received.push(body.items);
      const n = received.length;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      queue = queue.then(async () => {
        await new Promise((r) => setTimeout(r, delayMs));
        inFlight--;
        const instead = peer.onBatch(socket, body.items, n);
        if (instead === null) return;
        ack(instead ?? store(body.items));
      });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  peer.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return peer;
}

type Peer = Awaited<ReturnType<typeof startPeer>>;

function startRunner(peer: Peer, window: OutboxWindow) {
  const outbox = new Outbox(tempDir('yoke-outbox'));
  const sessions = new Map<string, OutboxSource>([[SESSION, { sessionId: SESSION, outbox, traceparent: undefined }]]);
  const log = pino({ level: 'silent' });
  const connection = new RunnerConnection(
    {
      home: tempDir('yoke-runner'),
      log,
      identity: { server: peer.url, runnerId: SESSION, orgId: SESSION, name: 'test', credential: 'c' },
    },
    sessions,
    { onReady: () => sender.flush(SESSION), onRefused: () => undefined },
  );
  // Ready only after start(), once `sender` exists.
  const sender = new OutboxSender(connection, sessions, log, window);
  connection.start();
  return {
    outbox,
    connection,
    /** Appends `n` items in bursts of 7, asking the sender to send after each one (as a session does). */
    async produce(n: number) {
      for (let k = 0; k < n; k++) {
        const seq = outbox.nextSeq;
        outbox.append({
          type: 'notice',
          level: 'info',
          text: `item ${seq}`,
          createdAt: new Date().toISOString(),
        } as Omit<ItemDraft, 'seq'>);
        sender.flush(SESSION);
        if (k % 7 === 6) await new Promise((r) => setImmediate(r));
      }
    },
  };
}

const seqs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function expectExactlyOnce(peer: Peer, n: number) {
  expect(peer.stored.map((i) => i.seq)).toEqual(seqs(n));
  expect(peer.stored.map((i) => (i as { text: string }).text)).toEqual(seqs(n).map((s) => `item ${s}`));
}

describe('OutboxSender: a window of batches in flight per session', () => {
  let peer: Peer;
  let runner: ReturnType<typeof startRunner> | undefined;

  beforeEach(async () => {
    peer = await startPeer();
  });

  afterEach(async () => {
    runner?.connection.stop();
    runner = undefined;
    await peer.close();
  });

  it('keeps up to the window in flight, in seq order, and the outbox advances by acks to exactly 1..N', async () => {
    runner = startRunner(peer, { batches: 4, batchItems: 5 });
    await expectEventually(() => runner!.connection.isReady);
    await runner.produce(300);
    await expectEventually(() => runner!.outbox.acked === 300);
    expect(runner.outbox.hasPending).toBe(false);
    expectExactlyOnce(peer, 300);
    expect(peer.maxInFlight).toBe(4);
    // Sent in order, each batch consecutive and at most 5 items, nothing sent twice.
    const sent = peer.received.flat().map((i) => i.seq);
    expect(sent).toEqual(seqs(300));
    expect(Math.max(...peer.received.map((b) => b.length))).toBe(5);
  });

  it('with a window of 1 it sends the next batch only after the previous ack', async () => {
    runner = startRunner(peer, { batches: 1, batchItems: 5 });
    await expectEventually(() => runner!.connection.isReady);
    await runner.produce(40);
    await expectEventually(() => runner!.outbox.acked === 40);
    expect(peer.maxInFlight).toBe(1);
    expectExactlyOnce(peer, 40);
  });

  it('a refused batch drops the window and resends from the first unacknowledged item: none lost, none twice', async () => {
    let refused = false;
    peer.onBatch = (_socket, _items, n) => {
      if (n !== 3 || refused) return undefined;
      refused = true;
      return { ok: false, error: { code: 'audit.unavailable', message: 'the audit log could not record this' } };
    };
    runner = startRunner(peer, { batches: 6, batchItems: 4 });
    await expectEventually(() => runner!.connection.isReady);
    await runner.produce(200);
    await expectEventually(() => runner!.outbox.acked === 200);
    expect(refused).toBe(true);
    expectExactlyOnce(peer, 200);
    // The batches behind the refused one met a gap, and were sent again after it.
    expect(peer.received.flat().length).toBeGreaterThan(200);
  });

  it('a connection lost with a full window resumes from what the hello says the server holds', async () => {
    let cut = false;
    peer.onBatch = (socket, items, n) => {
      if (n < 5 || cut) return undefined;
      // Stored but never acknowledged, then the link drops: the runner learns of it only from its next hello.
      cut = true;
      peer.stored.push(...items.filter((i) => i.seq === (peer.stored[peer.stored.length - 1]?.seq ?? 0) + 1));
      socket.conn.close();
      return null;
    };
    runner = startRunner(peer, { batches: 8, batchItems: 3 });
    await expectEventually(() => runner!.connection.isReady);
    await runner.produce(150);
    await expectEventually(() => runner!.outbox.acked === 150, 20_000);
    expect(cut).toBe(true);
    expectExactlyOnce(peer, 150);
  });
});
