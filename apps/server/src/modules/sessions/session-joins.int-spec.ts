import 'reflect-metadata';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppError } from '@yoke/protocol';
import { randomBytes } from 'node:crypto';
import { factories, migratedDatabase } from '../../../../../test/support/factories';
import type { Principal } from '../../core/auth/principal';
import { CoreModule } from '../../core/core.module';
import { PrismaService } from '../../core/prisma/prisma.service';
import { QueueModule } from '../../core/queue/queue.module';
import { AuditModule } from '../audit/audit.module';
import { JOIN_CONCURRENCY, JOIN_QUEUE_LIMIT, SessionQueriesService } from './session-queries.service';
import { SessionsModule } from './sessions.module';

/**
 * A burst of joins (every viewer reconnecting at once) against a real Postgres: at most JOIN_CONCURRENCY of them use
 * the database at a time, the rest wait their turn instead of taking every pooled connection (the last of them would
 * time out as a database outage and other requests would starve), and every one of them is answered.
 */
describe('session joins in a burst (real Postgres)', () => {
  let ctx: INestApplicationContext;
  let drop: () => Promise<void>;
  let queries: SessionQueriesService;
  let owner: Principal;
  let sessionId: string;

  beforeAll(async () => {
    const db = await migratedDatabase({ YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
    drop = db.drop;
    @Module({ imports: [CoreModule.forRoot(db.config, db.url, null), QueueModule, AuditModule, SessionsModule] })
    class JoinsTestModule {}
    ctx = await NestFactory.createApplicationContext(JoinsTestModule, { logger: false });
    queries = ctx.get(SessionQueriesService);
    const f = factories(ctx.get(PrismaService));
    const { org, owner: user, session } = await f.seeded();
    sessionId = session.id;
    owner = { userId: user.id, orgId: org.id, name: user.name, email: user.email, role: 'owner' };
  });

  afterAll(async () => {
    await ctx?.close();
    await drop?.();
  });

  it('runs at most JOIN_CONCURRENCY joins at once and answers every one of a burst of 40', async () => {
    let inTurn = 0;
    let mostAtOnce = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // Each join holds its turn while it joins the room (after its access check, before its history page).
    const joinRoom = async () => {
      inTurn++;
      mostAtOnce = Math.max(mostAtOnce, inTurn);
      await released;
      inTurn--;
    };
    const burst = Array.from({ length: 40 }, () => queries.join(owner, sessionId, 0, joinRoom));
    for (let i = 0; i < 200 && inTurn < JOIN_CONCURRENCY; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100)); // would more get in? none may
    expect(inTurn).toBe(JOIN_CONCURRENCY);
    release();
    const replies = await Promise.all(burst);
    expect(mostAtOnce).toBe(JOIN_CONCURRENCY);
    expect(replies).toHaveLength(40);
    for (const reply of replies) expect(reply.session.id).toBe(sessionId);
  });

  it('a join the caller may not see is refused in its turn and frees it', async () => {
    const stranger: Principal = { ...owner, orgId: '00000000-0000-4000-8000-000000000000' };
    const refused = await queries.join(stranger, sessionId, 0, () => undefined).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('session.not_found');
    // The gate is free again: a burst still gets through.
    const replies = await Promise.all(
      Array.from({ length: JOIN_CONCURRENCY + 2 }, () => queries.join(owner, sessionId, 0, () => undefined)),
    );
    expect(replies).toHaveLength(JOIN_CONCURRENCY + 2);
  });

  it('past JOIN_QUEUE_LIMIT waiting joins, one more is refused at once (503, retry) and the queue then drains', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let inTurn = 0;
    const holding = Array.from({ length: JOIN_CONCURRENCY }, () =>
      queries.join(owner, sessionId, 0, () => {
        inTurn++;
        return released;
      }),
    );
    for (let i = 0; i < 200 && inTurn < JOIN_CONCURRENCY; i++) await new Promise((r) => setTimeout(r, 10));
    // The waiting joins are for a session their token is not scoped to: refused in their turn without a statement.
    const elsewhere: Principal = {
      ...owner,
      scope: { sessionId: '00000000-0000-4000-8000-000000000001', grantId: 'g', linkId: null, role: 'viewer' },
    };
    const waiting = Array.from({ length: JOIN_QUEUE_LIMIT }, () =>
      queries
        .join(elsewhere, sessionId, 0, () => undefined)
        .then(
          () => 'joined',
          (err: unknown) => (err as AppError).code,
        ),
    );
    const refused = await queries.join(owner, sessionId, 0, () => undefined).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('service.unavailable');
    expect((refused as AppError).details).toMatchObject({ dependency: 'joins' });
    release();
    expect((await Promise.all(holding)).map((r) => r.session.id)).toEqual(Array(JOIN_CONCURRENCY).fill(sessionId));
    expect(new Set(await Promise.all(waiting))).toEqual(new Set(['session.not_found']));
    // Drained: the next join goes through.
    expect((await queries.join(owner, sessionId, 0, () => undefined)).session.id).toBe(sessionId);
  });
});
