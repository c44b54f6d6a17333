import { createAdapter } from '@socket.io/redis-adapter';
import { Emitter } from '@socket.io/redis-emitter';
import { type InboxAck, NS_RUNNER, NS_WEB, rooms, type Session } from '@yoke/protocol';
import { Redis } from 'ioredis';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { expectEventually, REDIS_URL, uniqueName } from '../../../../../test/support/env';
import { type HubLog, RealtimeHub, type RoomChange } from './realtime-hub';

const S = '0b0e5e43-5f4f-4f59-9d5c-3d7a9c1f2a01';
const R = '7c1d0a52-93b4-4a0e-8f7e-2c55b1f0d9e3';

/** A log that keeps what it was told. */
function recordingLog() {
  const lines: { level: string; context: Record<string, unknown>; message: string }[] = [];
  const log: HubLog = {
    warn: (context, message) => lines.push({ level: 'warn', context, message }),
    debug: (context, message) => lines.push({ level: 'debug', context, message }),
  };
  return { log, lines };
}

/**
 * A socket.io server whose sockets join the rooms their client asks for (the gateways' part), on a real port. With a
 * key, on the Redis adapter (real Redis).
 */
async function server(redisKey?: string) {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  const redis = redisKey ? { pub: new Redis(REDIS_URL), sub: new Redis(REDIS_URL) } : null;
  if (redis) io.adapter(createAdapter(redis.pub, redis.sub, { key: redisKey }));
  const web = io.of(NS_WEB);
  const runner = io.of(NS_RUNNER);
  for (const nsp of [web, runner]) {
    nsp.on('connection', (socket) => {
      socket.on('join', async (room: string, ack: () => void) => {
        await socket.join(room);
        ack();
      });
      socket.on('leave', async (room: string, ack: () => void) => {
        await socket.leave(room);
        ack();
      });
    });
  }
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  if (redis) {
    // The adapter listens on Redis once both namespaces have subscribed to their request channels.
    await expectEventually(async () => {
      const counts = (await redis.pub.pubsub(
        'NUMSUB',
        `${redisKey}-request#${NS_WEB}#`,
        `${redisKey}-request#${NS_RUNNER}#`,
      )) as (string | number)[];
      return Number(counts[1]) > 0 && Number(counts[3]) > 0;
    });
  }
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const clients: ClientSocket[] = [];
  return {
    web,
    runner,
    /** A client of a namespace, in `room` once this resolves. */
    async client(ns: string, room: string): Promise<ClientSocket> {
      const client = connect(`${base}${ns}`, { transports: ['websocket'], reconnection: false });
      clients.push(client);
      await client.timeout(5_000).emitWithAck('join', room);
      return client;
    },
    async close() {
      clients.forEach((c) => c.close());
      await new Promise<void>((r) => io.close(() => r()));
      if (redis) await Promise.all([redis.pub.quit(), redis.sub.quit()]).catch(() => undefined);
    },
  };
}

/** What a client hears of one event, in order. */
function heard<T>(client: ClientSocket, event: string): T[] {
  const got: T[] = [];
  client.on(event, (payload: T) => got.push(payload));
  return got;
}

const session = (title: string) => ({ id: S, title }) as unknown as Session;

describe('RealtimeHub', () => {
  const closing: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close().catch(() => undefined)));
  });
  const start = async (redisKey?: string) => {
    const s = await server(redisKey);
    closing.push(() => s.close());
    return s;
  };

  it('queues what is published before /web is bound and sends it, in order, once it is', async () => {
    const s = await start();
    const { log, lines } = recordingLog();
    const hub = new RealtimeHub({ clustered: false, log });
    const client = await s.client(NS_WEB, rooms.session(S));
    const updates = heard<Session>(client, 'session.updated');

    hub.emit(rooms.session(S), 'session.updated', session('one'));
    hub.emit(rooms.session(S), 'session.updated', session('two'));
    await new Promise((r) => setTimeout(r, 100));
    expect(updates).toEqual([]); // nothing can go out yet, and nothing is lost

    hub.bindWeb(s.web);
    await expectEventually(() => updates.length === 2);
    expect(updates.map((u) => u.title)).toEqual(['one', 'two']);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', context: { audience: 'web', sent: 2, dropped: 0 } }),
    ]);

    hub.emit(rooms.session(S), 'session.updated', session('three')); // bound: straight out
    await expectEventually(() => updates.length === 3);
  });

  it('keeps at most its limit queued: the oldest go, and the log says so', async () => {
    const s = await start();
    const { log, lines } = recordingLog();
    const hub = new RealtimeHub({ clustered: false, log, queueLimit: 2 });
    const client = await s.client(NS_WEB, rooms.session(S));
    const updates = heard<Session>(client, 'session.updated');

    for (const title of ['one', 'two', 'three', 'four']) hub.emit(rooms.session(S), 'session.updated', session(title));
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', context: { audience: 'web', limit: 2 } })]);

    hub.bindWeb(s.web);
    await expectEventually(() => updates.length === 2);
    expect(updates.map((u) => u.title)).toEqual(['three', 'four']);
    expect(lines[1]).toEqual(expect.objectContaining({ context: { audience: 'web', sent: 2, dropped: 2 } }));
  });

  it('asks a runner room and waits for /runner to be bound, within the timeout counted from the ask', async () => {
    const s = await start();
    const hub = new RealtimeHub({ clustered: false, log: recordingLog().log });
    const runner = await s.client(NS_RUNNER, rooms.runner(R));
    runner.on('session.input', (_entry: unknown, ack: (reply: InboxAck) => void) => ack({ ok: true, applied: true }));

    const asked = hub.ask(rooms.runner(R), 'session.input', { id: 'i1' } as never, 5_000);
    hub.bindRunners(s.runner);
    await expect(asked).resolves.toEqual({ replies: [{ ok: true, applied: true }], timedOut: false });

    // A room nobody is in answers with nothing.
    await expect(hub.ask(rooms.runner(S), 'session.input', { id: 'i2' } as never, 200)).resolves.toEqual({
      replies: [],
      timedOut: false,
    });
  });

  it('an ask whose namespace never comes resolves when its timeout is up', async () => {
    const hub = new RealtimeHub({ clustered: false, log: recordingLog().log });
    const at = Date.now();
    await expect(hub.ask(rooms.runner(R), 'session.input', { id: 'i1' } as never, 150)).resolves.toEqual({
      replies: [],
      timedOut: true,
    });
    expect(Date.now() - at).toBeGreaterThanOrEqual(140);
  });

  it('tells who joins and leaves rooms, with rooms read by parseRoom (not socket id rooms)', async () => {
    const s = await start();
    const hub = new RealtimeHub({ clustered: false, log: recordingLog().log });
    hub.bindWeb(s.web);
    const seen: string[] = [];
    const record = (what: string) => (c: RoomChange) =>
      seen.push(`${what} ${c.audience} ${JSON.stringify(c.room)} ${c.socket ? 'socket' : 'gone'}`);
    hub.roomEvents.on('join', record('join'));
    hub.roomEvents.on('leave', record('leave'));
    hub.roomEvents.on('emptied', ({ audience, room }) => seen.push(`emptied ${audience} ${JSON.stringify(room)}`));

    const client = await s.client(NS_WEB, rooms.member(R, S));
    await client.timeout(5_000).emitWithAck('join', rooms.session(S));
    await client.timeout(5_000).emitWithAck('leave', rooms.session(S));
    client.close();
    await expectEventually(() => seen.length >= 6);
    await new Promise((r) => setTimeout(r, 50)); // nothing more comes: its own id room is not one `rooms` builds
    expect(seen).toEqual([
      `join web {"kind":"member","orgId":"${R}","userId":"${S}"} socket`,
      `join web {"kind":"session","sessionId":"${S}"} socket`,
      `leave web {"kind":"session","sessionId":"${S}"} socket`,
      `emptied web {"kind":"session","sessionId":"${S}"}`,
      // The socket is still known while it leaves its rooms on disconnect.
      `leave web {"kind":"member","orgId":"${R}","userId":"${S}"} socket`,
      `emptied web {"kind":"member","orgId":"${R}","userId":"${S}"}`,
    ]);
  });

  it('is bound once per namespace', async () => {
    const s = await start();
    const hub = new RealtimeHub({ clustered: false, log: recordingLog().log });
    hub.bindWeb(s.web);
    expect(() => hub.bindWeb(s.web)).toThrow('already bound');
  });

  it('bound to a Redis emitter (the worker): reaches the sockets of a server replica, and asks nothing', async () => {
    const key = uniqueName('hub');
    const s = await start(key);
    const redis = new Redis(REDIS_URL);
    closing.push(() => redis.quit());
    const hub = new RealtimeHub({ clustered: true, log: recordingLog().log });
    const client = await s.client(NS_WEB, rooms.session(S));
    const updates = heard<Session>(client, 'session.updated');

    hub.emit(rooms.session(S), 'session.updated', session('queued'));
    hub.bindEmitter(new Emitter(redis, { key }), { web: NS_WEB, runner: NS_RUNNER });
    hub.emit(rooms.session(S), 'session.updated', session('direct'));
    await expectEventually(() => updates.length === 2);
    expect(updates.map((u) => u.title)).toEqual(['queued', 'direct']);

    await expect(hub.ask(rooms.runner(R), 'session.input', { id: 'i1' } as never, 5_000)).resolves.toEqual({
      replies: [],
      timedOut: false,
    });
    await expect(hub.fetchSockets('web', rooms.session(S))).rejects.toThrow('not bound in this process');
  });
});
