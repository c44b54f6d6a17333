/**
 * The read journeys' corpus in embedded mode: an embedded server's home, migrated by the server itself, then seeded
 * with the same corpus as team mode (bench/journeys/corpus.ts) through the same embedded Postgres the server runs
 * (`startEmbeddedPostgres`: PGlite behind its socket, the product's settings). PGlite is one process's, so the
 * minimal handler reads a copy of that database, opened the same way in this process, while the server reads its own:
 * both sides then hold identical rows and run side by side, interleaved.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../apps/server/src/core/database/embedded-postgres';
import { freePort, SERVER_MAIN, spawnNode, tempDir } from '../../test/support/processes';
import { type Org, orgs, seed } from './corpus';

export type EmbeddedCorpus = {
  /** The server's home: its database holds the corpus, its `local-token` the local user's secret. */
  home: string;
  /** The local user's org, the corpus' first. */
  org: Org;
  /** The copy the minimal handler reads: a `pg` URL (one connection at a time, as the server's own). */
  floorUrl: string;
  stopFloor(): Promise<void>;
};

/** The environment of an embedded server on `home` (nothing of team mode inherited). */
export function embeddedEnv(home: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    YOKE_HOME: home,
    LOG_LEVEL: 'info',
    YOKE_EMBEDDED: '1',
  };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'YOKE_TOKEN', 'YOKE_SERVER']) delete env[k];
  return env;
}

export async function embeddedCorpus(sessions: number, items: number): Promise<EmbeddedCorpus> {
  const home = tempDir('yoke-bench-journeys-embedded');
  // The server makes its home: the database, its migrations, the local user and org, the secret.
  const first = spawnNode(SERVER_MAIN, [], embeddedEnv(home, await freePort()));
  try {
    await first.waitForLine((l) => l.includes('yoke server listening'), 120_000);
  } finally {
    await first.kill('SIGTERM');
  }
  const started = Date.now();
  const db = await startEmbeddedPostgres(home);
  let org: Org;
  try {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const [local] = (
        await pg.query<Org>(
          `SELECT org_id AS "orgId", user_id AS "ownerId" FROM memberships WHERE role = 'owner' ORDER BY org_id LIMIT 1`,
        )
      ).rows;
      if (!local) throw new Error('the embedded server made no local user');
      const both = await orgs(pg, local);
      await seed(pg, both, sessions, items);
      org = both[0];
    } finally {
      await pg.end();
    }
  } finally {
    await db.stop();
  }
  const floorHome = tempDir('yoke-bench-journeys-embedded-floor');
  cpSync(join(home, 'pgdata'), join(floorHome, 'pgdata'), { recursive: true });
  const floor = await startEmbeddedPostgres(floorHome);
  console.log(`embedded corpus: seeded and copied in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { home, org, floorUrl: floor.url, stopFloor: () => floor.stop() };
}
