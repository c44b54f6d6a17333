/**
 * A loopback TCP relay in front of Postgres that counts the statements its clients send: every simple `Query` ('Q')
 * and every extended-protocol `Execute` ('E') message, `BEGIN` / `COMMIT` included, so a write in a transaction counts
 * every statement it runs (a `pg_stat_database.xact_commit` delta counts it as one). Bytes pass through untouched; the
 * only parsing is of the client's message framing (type byte + length). TLS is not relayed (the local services do
 * not use it).
 */
import { createServer, type Server, Socket } from 'node:net';

export interface StatementCounter {
  /** The database URL to hand the server: the same database, through the relay. */
  url: string;
  /** Statements sent so far by every client of the relay. */
  readonly count: number;
  /** While set, the text of every statement parsed or sent as a simple query is handed to it (to see what ran). */
  trace: ((sql: string) => void) | null;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Counts the messages of one client's stream; the first messages (startup, SSL request) have no type byte. */
function clientParser(onStatement: () => void, onText: (sql: string) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let started = false;
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (!started) {
        if (pending.length < 8) return;
        const len = pending.readInt32BE(0);
        if (pending.length < len) return;
        const code = pending.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) started = true;
        pending = pending.subarray(len);
        continue;
      }
      if (pending.length < 5) return;
      const len = pending.readInt32BE(1);
      if (pending.length < 1 + len) return;
      const type = pending[0];
      if (type === 0x51 /* Q */ || type === 0x45 /* E */) onStatement();
      if (type === 0x51) onText(pending.toString('utf8', 5, pending.indexOf(0, 5)));
      if (type === 0x50 /* P */) {
        const start = pending.indexOf(0, 5) + 1; // after the statement's name
        onText(pending.toString('utf8', start, pending.indexOf(0, start)));
      }
      pending = pending.subarray(1 + len);
    }
  };
}

export async function startStatementCounter(databaseUrl: string): Promise<StatementCounter> {
  const target = new URL(databaseUrl);
  let count = 0;
  const counter = { trace: null as ((sql: string) => void) | null };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const parse = clientParser(
      () => count++,
      (sql) => counter.trace?.(sql),
    );
    client.on('data', (chunk: Buffer) => {
      parse(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
    upstream.connect(Number(target.port || 5432), target.hostname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    get count() {
      return count;
    },
    get trace() {
      return counter.trace;
    },
    set trace(f) {
      counter.trace = f;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
