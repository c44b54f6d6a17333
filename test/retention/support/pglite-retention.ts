/**
 * Run by retention-pglite.int-spec.ts as `node -r test/support/register.js`: the sweep's and the dry-run's statements
 * on embedded PGlite (what `yoke start` runs on), through the server's repositories, in one transaction under the
 * org's retention lock. Two sessions idle for 40 days, one of them held; prints what each statement returned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../../apps/server/src/core/config/config';
import { startEmbeddedPostgres } from '../../../apps/server/src/core/database/embedded-postgres';
import { runMigrations } from '../../../apps/server/src/core/database/migrate';
import { PrismaService } from '../../../apps/server/src/core/prisma/prisma.service';
import { Transactions } from '../../../apps/server/src/core/prisma/transactions';
import { AuditRepository } from '../../../apps/server/src/modules/audit/audit.repository';
import { RetentionRepository } from '../../../apps/server/src/modules/retention/retention.repository';

const ORG = '00000000-0000-4000-8000-000000000001';
const USER = '00000000-0000-4000-8000-000000000101';
const KEPT = '00000000-0000-4000-8000-000000000201';
const HELD = '00000000-0000-4000-8000-000000000202';

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'yoke-retention-pglite-'));
  const pglite = await startEmbeddedPostgres(home);
  await runMigrations(pglite.url);
  // No databaseUrl in the config: the embedded pool, one connection.
  const prisma = new PrismaService(pglite.url, {} as AppConfig);
  try {
    const tx = new Transactions(prisma);
    const repo = new RetentionRepository(tx);
    const audit = new AuditRepository(tx);
    const run = (s: string) => prisma.$executeRawUnsafe(s);
    await run(`INSERT INTO orgs (id, slug, name) VALUES ('${ORG}', 'pglite', 'pglite')`);
    await run(`INSERT INTO users (id, email, name) VALUES ('${USER}', 'u@example.test', 'U')`);
    for (const [i, s] of [KEPT, HELD].entries()) {
      await run(
        `INSERT INTO sessions (id, org_id, owner_id, title, agent, harness, updated_at)
         VALUES ('${s}', '${ORG}', '${USER}', 't', '{}', 'yoke', now() - interval '40 days')`,
      );
      await run(
        `INSERT INTO session_items (session_id, seq, org_id, type, body, created_at)
         VALUES ('${s}', 1, '${ORG}', 'notice', '{"type":"notice","level":"info","text":"words"}', now())`,
      );
      await run(
        `INSERT INTO inbox_entries (id, org_id, session_id, kind, input, idempotency_key)
         VALUES (gen_random_uuid(), '${ORG}', '${s}', 'message',
                 '{"kind":"message","content":[{"type":"text","text":"words"}],"actor":{"id":"u","name":"U"}}', 'k')`,
      );
      await run(`INSERT INTO audit_contents (org_id, hash, body) VALUES ('${ORG}', 'h${i}', '{"text":"words"}')`);
      await run(
        `INSERT INTO audit_events (org_id, seq, id, at, actor_kind, actor_id, action, outcome, session_id, event, leaf,
           content_hash)
         VALUES ('${ORG}', ${i + 1}, gen_random_uuid(), now() - interval '40 days', 'user', '${USER}', 'session.prompt',
                 'success', '${s}', '{}', '\\x00', 'h${i}')`,
      );
    }
    await run(
      `INSERT INTO legal_holds (id, org_id, scope, target_id, reason, created_by)
       VALUES (gen_random_uuid(), '${ORG}', 'session', '${HELD}', 'r', '${USER}')`,
    );
    const cutoff = new Date(Date.now() - 30 * 86_400_000);
    const out = await tx.run(async () => {
      await repo.lockOrg(ORG);
      const holds = await repo.activeHolds(ORG);
      const counts = await repo.dueItemCounts(ORG, cutoff, holds);
      const due = await repo.dueSessions(ORG, cutoff, holds, 10);
      const held = await repo.heldSessions(ORG, cutoff, holds, 10);
      const inbox = await repo.dueInboxCount(ORG, cutoff, holds);
      const page = await repo.dueSessionPage(ORG, cutoff, holds, null, 10);
      const ids = page.map((s) => s.id);
      const items = await repo.unerasedItems(ORG, ids, 10);
      const body = { type: 'notice', level: 'info', text: 'erased' };
      const erased = await repo.eraseItems(
        ORG,
        cutoff,
        holds,
        items.map((i) => ({ ...i, body })),
        new Date(),
      );
      const inboxErased = await repo.eraseInbox(ORG, cutoff, holds, ids, 'erased', new Date());
      const contents = await repo.dueAuditContents(ORG, cutoff, holds);
      const last = await repo.lastSeqBefore(ORG, cutoff);
      const named = await repo.contentsNamedIn(ORG, 0, last);
      const among = await repo.dueContentsAmong(ORG, cutoff, holds, named);
      const redacted = await audit.redactContents(ORG, among, 'retention-30d', new Date());
      return {
        counts: counts.map((c) => ({ type: c.type, n: Number(c.n) })),
        due: due.map((s) => s.id),
        held: held.map((s) => s.id),
        inbox,
        erased,
        inboxErased,
        contents,
        named: named.sort(),
        among,
        redacted,
      };
    });
    const [{ words }] = await prisma.$queryRawUnsafe<{ words: bigint }[]>(
      `SELECT (SELECT count(*) FROM session_items WHERE body::text LIKE '%words%')
            + (SELECT count(*) FROM inbox_entries WHERE input::text LIKE '%words%')
            + (SELECT count(*) FROM audit_contents WHERE body::text LIKE '%words%') AS words`,
    );
    process.stdout.write(`${JSON.stringify({ ...out, wordsLeft: Number(words) })}\n`);
  } finally {
    await prisma.$disconnect();
    await pglite.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
