import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { NS_RUNNER } from '@yoke/protocol';
import { ChildSessions } from './child-sessions';
import { EnrolError, enrol, identityPath, type RunnerIdentityFile, rotateCredential } from './identity';
import { RunnerConnection } from './runner-connection';

/** The little of socket.io's server these tests use (socket.io is a dependency of apps/server, not of the runner). */
interface PeerSocket {
  on(event: string, handler: (...args: never[]) => void): void;
}
interface PeerServer {
  of(nsp: string): { on(event: 'connection', handler: (socket: PeerSocket) => void): void };
  close(fn: () => void): void;
}
// The same socket.io the server runs.
const { Server } = require(require.resolve('socket.io', { paths: [join(__dirname, '../../server')] })) as {
  Server: new (http: unknown, opts: object) => PeerServer;
};

const RUNNER = '11111111-1111-4111-8111-111111111111';
const ORG = '22222222-2222-4222-8222-222222222222';
const CHILD = '33333333-3333-4333-8333-333333333333';
type Reply = (reply: unknown) => void;

/**
 * A server on loopback that answers the runner's events with whatever the test says, right or wrong, and its
 * enrolment endpoint likewise.
 */
async function startPeer() {
  const http = createServer((_req: IncomingMessage, res: ServerResponse) => {
    const { status, body } = peer.enrolReply;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const io = new Server(http, { transports: ['websocket'] });
  const peer = {
    url: '',
    connections: 0,
    hello: (_n: number): unknown => ({ ok: true, runnerId: RUNNER, sessions: [] }),
    heartbeat: (): unknown => ({ ok: true, at: new Date().toISOString() }),
    heartbeats: 0,
    spawnChild: (): unknown => ({ ok: true, sessionId: CHILD, created: true }),
    rotate: (): unknown => ({ ok: true, credential: 'ykr_new' }),
    enrolReply: { status: 201, body: { runnerId: RUNNER, orgId: ORG, credential: 'ykr_first' } as unknown },
    close: () => new Promise<void>((r) => void io.close(() => r())),
  };
  io.of(NS_RUNNER).on('connection', (socket) => {
    const n = ++peer.connections;
    socket.on('runner.hello', (_body: unknown, ack: Reply) => ack(peer.hello(n)));
    socket.on('runner.heartbeat', (_body: unknown, ack: Reply) => {
      peer.heartbeats++;
      ack(peer.heartbeat());
    });
    socket.on('session.spawn_child', (_body: unknown, ack: Reply) => ack(peer.spawnChild()));
    socket.on('runner.rotate_credential', (ack: Reply) => ack(peer.rotate()));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  peer.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return peer;
}

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines, said: (msg: string) => lines.filter((l) => l.msg === msg) };
}

/** Waits for a condition (never a fixed sleep). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function identity(server: string): RunnerIdentityFile {
  return { server, runnerId: RUNNER, orgId: ORG, name: 'test', credential: 'ykr_old' };
}

describe('the runner parses every reply of its server', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  const connections: RunnerConnection[] = [];
  beforeEach(async () => {
    peer = await startPeer();
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) c.stop();
    await peer.close();
  });

  function connect(log: pino.Logger, heartbeatMs = 60_000) {
    const events = { ready: 0, refused: 0 };
    const home = mkdtempSync(join(tmpdir(), 'yoke-runner-'));
    const connection = new RunnerConnection({ home, identity: identity(peer.url), log, heartbeatMs }, new Map(), {
      onReady: () => void events.ready++,
      onRefused: () => void events.refused++,
    });
    connections.push(connection);
    connection.start();
    return { connection, events };
  }

  it('a hello ack without a runner id is not trusted: the runner reconnects until a hello is answered', async () => {
    const { log, said } = capturedLog();
    peer.hello = (n) =>
      n < 3
        ? { ok: true, sessions: [] } // no runnerId
        : { ok: true, runnerId: RUNNER, sessions: [] };
    const { connection, events } = connect(log);
    await until(() => events.ready === 1, 'the third hello to be answered');
    expect(peer.connections).toBe(3);
    const malformed = said('the server answered hello with a reply the protocol does not allow; reconnecting');
    expect(malformed).toHaveLength(2);
    expect(String(malformed[0].issues)).toContain('runnerId');
    expect(connection.isReady).toBe(true);
    expect(events.refused).toBe(0);
  });

  it('a hello ack whose seqs are not seqs, or that is no ack at all, is not trusted either', async () => {
    const { log, said } = capturedLog();
    const wrong: unknown[] = [
      { ok: true, runnerId: RUNNER, sessions: [{ sessionId: RUNNER, persistedSeq: -1 }] },
      'hello',
      { ok: true, runnerId: RUNNER, sessions: [], extra: 1 },
    ];
    peer.hello = (n) => wrong[n - 1] ?? { ok: true, runnerId: RUNNER, sessions: [] };
    const { connection, events } = connect(log);
    await until(() => events.ready === 1, 'a well-formed hello');
    expect(peer.connections).toBe(4);
    expect(said('the server answered hello with a reply the protocol does not allow; reconnecting')).toHaveLength(3);
    expect(connection.epoch).toBe(1);
  });

  it('a refused hello reconnects too, instead of sitting on a connection that never gets ready', async () => {
    const { log, said } = capturedLog();
    peer.hello = (n) =>
      n === 1
        ? { ok: false, error: { code: 'service.unavailable', message: 'the database is down' } }
        : { ok: true, runnerId: RUNNER, sessions: [] };
    const { events } = connect(log);
    await until(() => events.ready === 1, 'the second hello');
    expect(said('hello refused; reconnecting')).toHaveLength(1);
    expect(peer.connections).toBe(2);
  });

  it('a malformed or refused heartbeat ack is logged and changes nothing', async () => {
    const { log, said } = capturedLog();
    const answers: unknown[] = [
      { ok: true, at: 'not a date' },
      { ok: false, error: { code: 'internal', message: 'boom' } },
    ];
    peer.heartbeat = () => answers[peer.heartbeats - 1] ?? { ok: true, at: new Date().toISOString() };
    const { connection } = connect(log, 20);
    await until(() => peer.heartbeats >= 3, 'three heartbeats');
    await until(() => said('heartbeat refused').length === 1, 'the refusal to be logged');
    const malformed = said('the server answered a heartbeat with a reply the protocol does not allow');
    expect(malformed).toHaveLength(1);
    expect(String(malformed[0].issues)).toContain('at');
    expect(connection.isReady).toBe(true);
    expect(peer.connections).toBe(1);
  });

  it('a delegate call whose spawn_child ack is malformed fails with a clear error, and waits for no child', async () => {
    const { log, said } = capturedLog();
    const { connection, events } = connect(log);
    await until(() => events.ready === 1, 'hello');
    const children = new ChildSessions(connection, new Map(), log);
    const request = { callId: 'call-1', agent: 'reviewer', prompt: 'review it' };

    peer.spawnChild = () => ({ ok: true, sessionId: 'not-a-uuid', created: true });
    expect(await children.delegate(RUNNER, request)).toEqual({
      ok: false,
      error: 'the server answered the request for a child session with a malformed reply',
    });
    const logged = said('the server answered the request for a child session with a reply the protocol does not allow');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ parentId: RUNNER, callId: 'call-1' });

    peer.spawnChild = () => ({ ok: false, error: { code: 'agent.invalid', message: 'no such sub-agent' } });
    expect(await children.delegate(RUNNER, request)).toEqual({
      ok: false,
      error: 'the server refused the child session: no such sub-agent',
    });
  });
});

describe('the runner CLI commands parse their replies', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let home: string;
  beforeEach(async () => {
    peer = await startPeer();
    home = mkdtempSync(join(tmpdir(), 'yoke-runner-'));
  });
  afterEach(() => peer.close());

  it('a rotation answered with a malformed reply fails and keeps the stored credential', async () => {
    writeFileSync(identityPath(home), JSON.stringify(identity(peer.url)));
    peer.rotate = () => ({ ok: true, credential: 42 });
    await expect(rotateCredential(home)).rejects.toThrow(
      /the server answered the rotation with a reply the protocol does not allow: .*credential/s,
    );
    expect(JSON.parse(readFileSync(identityPath(home), 'utf8'))).toMatchObject({ credential: 'ykr_old' });

    peer.rotate = () => ({ ok: true, credential: 'ykr_new' });
    expect((await rotateCredential(home)).credential).toBe('ykr_new');
  });

  it('an enrolment answered with a malformed reply fails with an EnrolError and stores nothing', async () => {
    peer.enrolReply = { status: 201, body: { runnerId: RUNNER, credential: 'ykr_first' } }; // no orgId
    const attempt = enrol({ server: peer.url, token: 't', name: 'laptop', home });
    await expect(attempt).rejects.toThrow(EnrolError);
    await expect(attempt).rejects.toThrow(/the server answered the enrolment with a reply .* orgId/s);
    expect(() => readFileSync(identityPath(home))).toThrow();

    peer.enrolReply = { status: 401, body: { code: 'runner.enrolment_invalid', message: 'that token expired' } };
    await expect(enrol({ server: peer.url, token: 't', name: 'laptop', home })).rejects.toThrow(
      'enrolment refused (401): that token expired',
    );

    peer.enrolReply = { status: 201, body: { runnerId: RUNNER, orgId: ORG, credential: 'ykr_first' } };
    expect(await enrol({ server: peer.url, token: 't', name: 'laptop', home })).toMatchObject({ runnerId: RUNNER });
  });
});
