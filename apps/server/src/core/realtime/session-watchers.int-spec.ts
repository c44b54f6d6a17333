import { createAdapter } from '@socket.io/redis-adapter';
import { type PartialItem, rooms } from '@yoke/protocol';
import { Redis } from 'ioredis';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { expectEventually, REDIS_URL, uniqueName } from '../../../../../test/support/env';
import { RealtimeHub } from './realtime-hub';
import { SessionWatchers } from './session-watchers';

const REFRESH_MS = 150;
const S = '0b0e5e43-5f4f-4f59-9d5c-3d7a9c1f2a01';
const PARTIAL: PartialItem = { type: 'agent_message_delta', turnId: 't1', streamId: 's1', afterSeq: 0, text: 'so far' };

/** One server replica: socket.io on the Redis adapter (real Redis), with its watchers on the hub bound to /web. */
async function replica(key: string, partials: Record<string, PartialItem[]> = {}) {
  const pub = new Redis(REDIS_URL);
  const sub = pub.duplicate();
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  io.adapter(createAdapter(pub, sub, { key }));
  const nsp = io.of('/web');
  const hub = new RealtimeHub({ clustered: true });
  const watchers = new SessionWatchers(hub, undefined, REFRESH_MS);
  watchers.serveSnapshots((id) => partials[id] ?? []);
  hub.bindWeb(nsp);
  nsp.on('connection', (socket) => {
    socket.on('join', async (sessionId: string, ack: (p: PartialItem[]) => void) => {
      await socket.join(rooms.session(sessionId));
      ack(await watchers.watch(sessionId));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  await new Promise((r) => setTimeout(r, 50)); // the adapter's subscriptions
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/web`;
  const clients: ClientSocket[] = [];
  return {
    nsp,
    watchers,
    pub,
    sub,
    /** A viewer on this replica joins a session; resolves with the partial items the join returned. */
    async viewer(sessionId: string): Promise<{ client: ClientSocket; partials: PartialItem[] }> {
      const client = connect(url, { transports: ['websocket'], reconnection: false });
      clients.push(client);
      const partials = (await client.timeout(5_000).emitWithAck('join', sessionId)) as PartialItem[];
      return { client, partials };
    },
    async close() {
      watchers.onModuleDestroy();
      clients.forEach((c) => c.close());
      await new Promise<void>((r) => io.close(() => r()));
      await Promise.all([pub.quit(), sub.quit()]).catch(() => undefined);
    },
  };
}

describe('SessionWatchers (replicas on a real Redis)', () => {
  const opened: Awaited<ReturnType<typeof replica>>[] = [];
  const start = async (key: string, partials?: Record<string, PartialItem[]>) => {
    const r = await replica(key, partials);
    opened.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close().catch(() => undefined)));
  });

  it('publishes while it does not know, then keeps a session nobody else watches off Redis', async () => {
    const key = uniqueName('watch');
    const a = await start(key);
    await start(key);
    expect(a.watchers.elsewhere(S)).toBe(true); // unknown: publish while asking
    await expectEventually(() => a.watchers.elsewhere(S) === false);
  });

  it("a viewer joining on another replica gets the relaying replica's partial text, and is counted until it leaves", async () => {
    const key = uniqueName('watch');
    const a = await start(key, { [S]: [PARTIAL] });
    const b = await start(key);
    await expectEventually(() => a.watchers.elsewhere(S) === false);

    const { client, partials } = await b.viewer(S);
    expect(partials).toEqual([PARTIAL]);
    // Counted as soon as the join was answered: no chunk published after the snapshot is skipped.
    expect(a.watchers.elsewhere(S)).toBe(true);
    await new Promise((r) => setTimeout(r, 3 * REFRESH_MS)); // renewed, not expired, while it stays
    expect(a.watchers.elsewhere(S)).toBe(true);

    client.close();
    await expectEventually(() => a.watchers.elsewhere(S) === false);
  });

  it('a replica that starts relaying asks who watches and finds the viewers already there', async () => {
    const key = uniqueName('watch');
    const b = await start(key);
    await b.viewer(S);
    const c = await start(key);
    expect(c.watchers.elsewhere(S)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.watchers.elsewhere(S)).toBe(true);
  });

  it('stops counting a replica that vanished without saying so once its announcements expire', async () => {
    const key = uniqueName('watch');
    const a = await start(key);
    const b = await start(key);
    await b.viewer(S);
    expect(a.watchers.elsewhere(S)).toBe(true);
    // B's Redis connections drop: no unwatch and no renewals reach A any more.
    b.watchers.onModuleDestroy();
    b.pub.disconnect();
    b.sub.disconnect();
    await expectEventually(() => a.watchers.elsewhere(S) === false, 5_000);
    await Promise.all([b.pub.connect(), b.sub.connect()]); // so that B can be closed cleanly
  });

  it('ignores malformed cluster messages', async () => {
    const key = uniqueName('watch');
    const a = await start(key, { [S]: [PARTIAL] });
    const b = await start(key);
    const answers = await b.nsp.serverSideEmitWithAck('yoke:watch', { replica: 5, sessionId: S });
    expect(answers).toEqual([[]]); // no partial text for a request that is not one
    b.nsp.serverSideEmit('yoke:watching', { replica: 'x', sessionIds: 'not a list' });
    b.nsp.serverSideEmit('yoke:watching', { replica: 'y', sessionIds: [S], extra: true });
    b.nsp.serverSideEmit('yoke:unwatch', null);
    // A well-formed announcement after them, so that they have all been handled when it shows.
    b.nsp.serverSideEmit('yoke:watching', { replica: 'z', sessionIds: [S] });
    await expectEventually(() => a.watchers.remoteReplicas(S).length > 0);
    expect(a.watchers.remoteReplicas(S)).toEqual(['z']);
  });
});
