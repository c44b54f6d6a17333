/**
 * Run by prepared-reads.int-spec.ts as `node -r test/support/register.js`: a prepared hot read on embedded PGlite, then
 * the pool's connection replaced (as its idle timeout does), then the same read again. Prints what each read got.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../../apps/server/src/core/config/config';
import { startEmbeddedPostgres } from '../../../apps/server/src/core/database/embedded-postgres';
import { runMigrations } from '../../../apps/server/src/core/database/migrate';
import { Prisma } from '../../../apps/server/src/generated/prisma/client';
import { PrismaService } from '../../../apps/server/src/core/prisma/prisma.service';
import { Transactions } from '../../../apps/server/src/core/prisma/transactions';

const ORG = '00000000-0000-4000-8000-000000000001';

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'yoke-prepared-pglite-'));
  const pglite = await startEmbeddedPostgres(home);
  await runMigrations(pglite.url);
  // No databaseUrl in the config: the embedded pool, one connection.
  const prisma = new PrismaService(pglite.url, {} as AppConfig);
  const read = async () => {
    try {
      const rows = await new Transactions(prisma).rows<{ slug: string }>(
        Prisma.sql`SELECT slug FROM orgs WHERE id = ${ORG}::uuid`,
      );
      return rows.map((r) => r.slug);
    } catch (err) {
      return String((err as Error).message);
    }
  };
  try {
    await prisma.$executeRawUnsafe(`INSERT INTO orgs (id, slug, name) VALUES ('${ORG}', 'pglite', 'pglite')`);
    const first = await read();
    const again = await read();
    // The pool's one connection closed and a new one opened: PGlite's session, and what was prepared on it, stays.
    const client = await prisma.pool.connect();
    client.release(true);
    // The socket server serves one connection at a time: it takes the next once the closed one is gone. An unnamed
    // statement waits for that (the pool's new connection), so that the read below runs on it.
    for (let tries = 0; ; tries++) {
      try {
        await prisma.pool.query('SELECT 1');
        break;
      } catch (err) {
        if (tries >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const afterNewConnection = await read();
    console.log(JSON.stringify({ first, again, afterNewConnection }));
  } finally {
    await prisma.$disconnect();
    await pglite.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
