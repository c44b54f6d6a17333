import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { CoreModule } from '../../apps/server/src/core/core.module';
import { Transactions } from '../../apps/server/src/core/prisma/transactions';
import { QueueModule } from '../../apps/server/src/core/queue/queue.module';
import { AuditModule } from '../../apps/server/src/modules/audit/audit.module';
import { RetentionModule } from '../../apps/server/src/modules/retention/retention.module';
import { RetentionProcessor } from '../../apps/server/src/modules/retention/retention.processor';
import { RetentionSweep, SWEEP_BATCH } from '../../apps/server/src/modules/retention/retention-sweep.use-case';
import { expectEventually } from '../support/env';
import { factories, migratedDatabase } from '../support/factories';

const DAY = 86_400_000;

/**
 * The nightly schedule through the server's own modules (no HTTP; jobs run in process, as in embedded mode): a tick
 * enqueues one `retention.sweep` per org with a retention and per UTC day, the job erases what is due as the system,
 * and orgs without a retention are never swept.
 */
describe('retention: the nightly sweep (real Postgres)', () => {
  let ctx: INestApplicationContext;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let sql: Client;
  let home: string;
  let processor: RetentionProcessor;
  let f: ReturnType<typeof factories>;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'yoke-retention-'));
    db = await migratedDatabase({
      YOKE_SECRET_KEY: randomBytes(32).toString('base64url'),
      YOKE_HOME: home,
      YOKE_AUDIT_CHECKPOINT_EVENTS: '1000000',
      YOKE_AUDIT_CHECKPOINT_SECONDS: '86400',
    });
    @Module({ imports: [CoreModule.forRoot(db.config, db.url, null), QueueModule, AuditModule, RetentionModule] })
    class RetentionTestModule {}
    ctx = await NestFactory.createApplicationContext(RetentionTestModule, { logger: ['error'] });
    await ctx.init();
    processor = ctx.get(RetentionProcessor);
    f = factories(ctx.get(Transactions).client as never);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await ctx?.close();
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  /** An org with one session idle for `idleDays`, holding a prompt with `mark`, and a retention (or none). */
  async function orgWithSession(mark: string, idleDays: number, days: number | null) {
    const { org } = await f.orgWithOwner();
    const sessionId = await orgWithSessionIn(org.id, mark, idleDays);
    if (days !== null) {
      await sql.query('INSERT INTO org_retention (org_id, session_content_days) VALUES ($1, $2)', [org.id, days]);
    }
    return { orgId: org.id, sessionId };
  }

  /** A session of the org's owner, idle for `idleDays`, with a prompt holding `mark`. */
  async function orgWithSessionIn(orgId: string, mark: string, idleDays: number) {
    const { rows } = await sql.query<{ user_id: string }>('SELECT user_id FROM memberships WHERE org_id = $1', [orgId]);
    const session = await f.session(orgId, rows[0].user_id);
    await sql.query(
      `INSERT INTO session_items (session_id, seq, org_id, type, turn_id, body, created_at)
       VALUES ($1, 1, $2, 'user_message', 't1', $3, now())`,
      [session.id, orgId, JSON.stringify({ type: 'user_message', content: [{ type: 'text', text: mark }] })],
    );
    await sql.query('UPDATE sessions SET updated_at = $2 WHERE id = $1', [
      session.id,
      new Date(Date.now() - idleDays * DAY),
    ]);
    return session.id;
  }

  const bodyOf = async (sessionId: string) =>
    (await sql.query<{ body: string }>('SELECT body::text FROM session_items WHERE session_id = $1', [sessionId]))
      .rows[0].body;
  const erasures = async (orgId: string) =>
    (
      await sql.query<{ event: { actor: { kind: string }; details: Record<string, unknown> } }>(
        `SELECT event FROM audit_events WHERE org_id = $1 AND action = 'retention.erased' ORDER BY seq`,
        [orgId],
      )
    ).rows.map((r) => r.event);

  it('sweeps each org with a retention once a day, as the system; leaves orgs without one alone', async () => {
    const due = await orgWithSession(`nightly-${randomUUID()}`, 10, 7);
    const kept = await orgWithSession(`kept-${randomUUID()}`, 10, null);
    const fresh = await orgWithSession(`fresh-${randomUUID()}`, 2, 7);

    await processor.tick();
    await expectEventually(async () => (await bodyOf(due.sessionId)).includes('[erased by retention on '));
    expect(await erasures(due.orgId)).toEqual([
      expect.objectContaining({
        actor: { kind: 'system', id: 'yoke' },
        details: expect.objectContaining({ sessionItems: 1, sessions: 1, sessionContentDays: 7 }),
      }),
    ]);
    expect(await bodyOf(kept.sessionId)).toContain('kept-');
    expect(await bodyOf(fresh.sessionId)).toContain('fresh-');

    // Content due later that day waits for the next day's sweep, which erases it and records one more event.
    const later = await orgWithSessionIn(due.orgId, `later-${randomUUID()}`, 10);
    await processor.tick();
    await processor.tick(new Date(Date.now() + DAY));
    await expectEventually(async () => (await bodyOf(later)).includes('[erased by retention on '));
    expect((await erasures(due.orgId)).map((e) => e.details.sessionItems)).toEqual([1, 1]);
    expect(await erasures(kept.orgId)).toEqual([]);
    expect(await erasures(fresh.orgId)).toEqual([]);
  });

  it('erases a large session in rounds of SWEEP_BATCH, one transaction and one event each', async () => {
    const n = 2 * SWEEP_BATCH + 500;
    const { orgId, sessionId } = await orgWithSession(`big-${randomUUID()}`, 10, 7);
    await sql.query(
      `INSERT INTO session_items (session_id, seq, org_id, type, turn_id, body, created_at)
       SELECT $1, 1 + i, $2, 'tool_result', 't1', jsonb_build_object('type', 'tool_result', 'callId', 'c' || i,
              'output', 'output ' || i, 'isError', false), now()
       FROM generate_series(1, $3::int) AS i`,
      [sessionId, orgId, n],
    );
    const result = await ctx.get(RetentionSweep).run(orgId);
    expect(result.counts).toMatchObject({ sessionItems: n + 1, sessions: 1 });
    expect((await erasures(orgId)).map((e) => e.details.sessionItems)).toEqual([SWEEP_BATCH, SWEEP_BATCH, 501]);
    const { rows } = await sql.query<{ left: string }>(
      `SELECT count(*) AS left FROM session_items WHERE session_id = $1 AND erased_at IS NULL`,
      [sessionId],
    );
    expect(rows[0].left).toBe('0');
    expect((await ctx.get(RetentionSweep).run(orgId)).counts.sessionItems).toBe(0);
  });
});
