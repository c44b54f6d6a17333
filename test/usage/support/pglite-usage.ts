/**
 * Run by usage-report.int-spec.ts as `node -r test/support/register.js`: the usage statement on embedded PGlite,
 * with 600 calls over November 2026 in one org. Prints, per grouping, the repository's sums and a direct SUM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UsageGrouping } from '@yoke/protocol';
import type { AppConfig } from '../../../apps/server/src/core/config/config';
import { startEmbeddedPostgres } from '../../../apps/server/src/core/database/embedded-postgres';
import { runMigrations } from '../../../apps/server/src/core/database/migrate';
import { PrismaService } from '../../../apps/server/src/core/prisma/prisma.service';
import { Transactions } from '../../../apps/server/src/core/prisma/transactions';
import { UsageRepository } from '../../../apps/server/src/modules/usage/usage.repository';

const FROM = '2026-11-01T00:00:00.000Z';
const TO = '2026-12-01T00:00:00.000Z';
const ORG = '00000000-0000-4000-8000-000000000001';
const USER = (i: string) => `('00000000-0000-4000-8000-00000000010' || ${i})::uuid`;
const SESSION = (i: string) => `('00000000-0000-4000-8000-00000000020' || ${i})::uuid`;
const GROUPINGS: UsageGrouping[] = ['user', 'model', 'harness', 'agent', 'session', 'day'];

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'yoke-usage-pglite-'));
  const pglite = await startEmbeddedPostgres(home);
  await runMigrations(pglite.url);
  // No databaseUrl in the config: the embedded pool, one connection.
  const prisma = new PrismaService(pglite.url, {} as AppConfig);
  try {
    const repo = new UsageRepository(new Transactions(prisma));
    await prisma.$executeRawUnsafe(`INSERT INTO orgs (id, slug, name) VALUES ('${ORG}', 'pglite', 'pglite')`);
    await prisma.$executeRawUnsafe(
      `INSERT INTO users (id, email, name) SELECT ${USER('i')}, 'u' || i || '@example.test', 'U' || i
       FROM generate_series(0, 2) AS i`,
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO sessions (id, org_id, owner_id, title, agent, harness)
       SELECT ${SESSION('i')}, '${ORG}', ${USER('(i % 3)')}, 'session ' || i, '{}', 'yoke'
       FROM generate_series(0, 3) AS i`,
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO metered_usage (org_id, session_id, item_seq, user_id, agent, harness, provider, api, host, model,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros,
         price_version, at)
       SELECT '${ORG}', ${SESSION('(i % 4)')}, i, ${USER('(i % 3)')}, 'agent-' || (i % 2),
              (ARRAY['claude-code', 'codex'])[1 + i % 2], 'anthropic', 'messages', 'api.anthropic.com',
              (ARRAY['claude-sonnet-4-5', 'gpt-5', 'o4-mini'])[1 + (i * 7) % 3],
              i * 3, i * 5, i * 7, i * 11, 0, (i::bigint * 2654435761) % 900000, '2026-12-01',
              timestamptz '${FROM}' + ((i::bigint * 2593) % 2592000) * interval '1 second'
       FROM generate_series(1, 600) AS i`,
    );
    const out: Record<string, unknown> = {};
    for (const by of GROUPINGS) {
      const sums = await repo.sums(ORG, { by, from: new Date(FROM), to: new Date(TO) });
      const [d] = await prisma.$queryRawUnsafe<Record<string, bigint>[]>(
        `SELECT count(*)::bigint AS calls, sum(input_tokens)::bigint AS "inputTokens",
                sum(output_tokens)::bigint AS "outputTokens", sum(cache_read_tokens)::bigint AS "cacheReadTokens",
                sum(cache_write_tokens)::bigint AS "cacheWriteTokens", sum(cost_micros)::bigint AS "costMicros"
         FROM metered_usage WHERE org_id = '${ORG}' AND at >= '${FROM}' AND at < '${TO}'`,
      );
      out[by] = { sums, direct: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Number(v)])) };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await prisma.$disconnect();
    await pglite.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
