import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pino from 'pino';
import { runMigrations } from './migrate';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Postgres settings for a single local user, given on the command line at every start (so they hold for homes made
 * before them too; `postgresql.conf` keeps initdb's). PGlite's shared memory lives in its WASM heap, and emscripten
 * zero-fills it at start: initdb's default `shared_buffers = 128MB` was 128 MB of resident memory before the first
 * query. 16 MB holds the working set of a local install (the whole database of a fresh home is ~40 MB on disk, mostly
 * catalogs); `wal_buffers` follows it (1/32). Sorts and index builds are bounded too, since the WASM heap never gives
 * memory back. Measured with bench/memory (see bench/README.md).
 */
export const EMBEDDED_POSTGRES_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  work_mem: '4MB',
  maintenance_work_mem: '16MB',
  temp_buffers: '1MB',
};

/**
 * Embedded Postgres for `yoke start`: PGlite (Postgres compiled to WASM) with its data under `home`,
 * served over the Postgres wire protocol on loopback so the same Prisma + pg code path serves both modes.
 */
export async function startEmbeddedPostgres(home: string): Promise<EmbeddedPostgres> {
  const dataDir = join(home, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  const settings = Object.entries(EMBEDDED_POSTGRES_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const db = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, ...settings] });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * Makes a fresh home's database (initdb, then the migrations) in a short-lived child process, and returns whether it
 * did. PGlite runs initdb in a second Postgres instance with its own WASM heap, and the migrations make V8 compile
 * much of Postgres: done in the server process, that left ~100 MB more resident for good on a first `yoke start` than
 * on any later one (peak RSS ~750 MB). In a child it is all returned when the child exits, and the server then starts
 * the database exactly as on a warm home.
 */
export async function prepareEmbeddedHome(home: string): Promise<boolean> {
  if (existsSync(join(home, 'pgdata', 'PG_VERSION'))) return false;
  const child = spawn(process.execPath, [__filename, home], { stdio: ['ignore', 'ignore', 'inherit'] });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0)
    throw new Error(`could not create the embedded database in ${home} (${signal ?? `exit code ${code}`})`);
  return true;
}

/** The child `prepareEmbeddedHome` runs: `node embedded-postgres.js <home>`. */
async function prepareHere(home: string): Promise<void> {
  const db = await startEmbeddedPostgres(home);
  try {
    await runMigrations(db.url);
  } finally {
    await db.stop();
  }
}

if (require.main === module) {
  prepareHere(process.argv[2]).then(
    () => process.exit(0),
    (err: unknown) => {
      pino().fatal({ err }, 'could not create the embedded database');
      process.exit(1);
    },
  );
}
