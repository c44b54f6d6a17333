import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { migrate } from 'postgres-migrations';

/** The committed SQL migrations (prisma/migrations), found from source or from dist. */
export function migrationsDir(): string {
  const candidates = [
    resolve(__dirname, '../../../../../prisma/migrations'),
    resolve(process.cwd(), 'prisma/migrations'),
  ];
  const dir = candidates.find((d) => existsSync(join(d, '1_init.sql')));
  if (!dir) throw new Error(`prisma/migrations not found (looked in ${candidates.join(', ')})`);
  return dir;
}

/** Applies pending migrations in order, once, under an advisory lock (safe with several replicas booting). */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const applied = await migrate({ client }, migrationsDir(), { logger: () => undefined });
    return applied.map((m) => m.name);
  } finally {
    await client.end();
  }
}
