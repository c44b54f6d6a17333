import 'reflect-metadata';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AgentSpec, AppError, type ItemDraft } from '@yoke/protocol';
import { randomBytes, randomUUID } from 'node:crypto';
import { factories, migratedDatabase } from '../../../../../test/support/factories';
import { CoreModule } from '../../core/core.module';
import { PrismaService } from '../../core/prisma/prisma.service';
import { QueueModule } from '../../core/queue/queue.module';
import { AuditModule } from '../audit/audit.module';
import { SessionsModule } from './sessions.module';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { type StartRequest, StartSession } from './start-session.use-case';

/** The sessions module on its own database (team mode, no Redis), without HTTP or sockets: no runner is connected. */
async function sessionsContext() {
  const db = await migratedDatabase({ YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
  @Module({ imports: [CoreModule.forRoot(db.config, db.url, null), QueueModule, AuditModule, SessionsModule] })
  class StartSessionTestModule {}
  const ctx = await NestFactory.createApplicationContext(StartSessionTestModule, { logger: false });
  return {
    ctx,
    prisma: ctx.get(PrismaService),
    async close() {
      await ctx.close();
      await db.drop();
    },
  };
}

/**
 * StartSession against a real Postgres (the sessions module, its own database): a session, a fork's items and
 * its first inputs are written in one transaction or not at all. `xmin` is the id of the transaction that wrote a row.
 */
describe('StartSession (real Postgres)', () => {
  let app: { ctx: INestApplicationContext; prisma: PrismaService; close(): Promise<void> };
  let start: StartSession;
  let org: { id: string };
  let owner: { id: string; name: string };
  let runner: { id: string };

  const agent = AgentSpec.parse({
    name: 'lead',
    prompt: 'You lead.',
    agents: { helper: { prompt: 'You help.', harness: 'yoke' } },
  });
  const request = (over: Partial<StartRequest> = {}): StartRequest => ({
    orgId: org.id,
    ownerId: owner.id,
    runnerId: runner.id,
    title: `t-${randomUUID()}`,
    agent,
    harness: agent.harness,
    model: null,
    workspace: null,
    policies: [],
    idempotencyKey: null,
    ...over,
  });
  const xmin = async (table: 'sessions' | 'session_items', column: 'id' | 'session_id', id: string) =>
    (
      await app.prisma.$queryRawUnsafe<{ xmin: string }[]>(
        `SELECT xmin::text AS xmin FROM ${table} WHERE ${column} = $1::uuid`,
        id,
      )
    ).map((r) => r.xmin);
  /**
   * The transaction that inserted each inbox row of a session, kept by a test-only trigger: `xmin` moves when the
   * dispatcher claims a row for a hand-over to the runner right after the commit.
   */
  const inboxWrittenIn = async (sessionId: string) =>
    (
      await app.prisma.$queryRawUnsafe<{ tx: string }[]>(
        'SELECT tx FROM test_inbox_written WHERE session_id = $1::uuid',
        sessionId,
      )
    ).map((r) => r.tx);
  const sessionsTitled = (title: string) => app.prisma.session.count({ where: { title } });
  const inboxCount = () => app.prisma.inboxEntry.count();
  /** A test-only trigger: Postgres refuses an inbox row whose input matches `condition` (a forced error mid-way). */
  const refuseInbox = async (name: string, condition: string) => {
    await app.prisma.$executeRawUnsafe(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF ${condition} THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$`,
    );
    await app.prisma.$executeRawUnsafe(
      `CREATE TRIGGER ${name} BEFORE INSERT ON inbox_entries FOR EACH ROW EXECUTE FUNCTION ${name}()`,
    );
    return async () => {
      await app.prisma.$executeRawUnsafe(`DROP TRIGGER ${name} ON inbox_entries`);
      await app.prisma.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
    };
  };
  /** A parent session with items 1..n (appended as a runner would). */
  const parentWithItems = async (n: number) => {
    const { session } = await start.start(request());
    const drafts: ItemDraft[] = Array.from({ length: n }, (_, i) => ({
      seq: i + 1,
      type: 'user_message',
      content: [{ type: 'text', text: `item ${i + 1}` }],
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
    }));
    await app.ctx.get(SessionsRepository).appendItems(session.id, drafts);
    return session;
  };

  beforeAll(async () => {
    app = await sessionsContext();
    start = app.ctx.get(StartSession);
    await app.prisma.$executeRawUnsafe('CREATE TABLE test_inbox_written (session_id uuid, tx text)');
    await app.prisma.$executeRawUnsafe(
      `CREATE FUNCTION test_inbox_written() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO test_inbox_written VALUES (NEW.session_id, (txid_current() % 4294967296)::text); RETURN NEW; END $$`,
    );
    await app.prisma.$executeRawUnsafe(
      'CREATE TRIGGER test_inbox_written AFTER INSERT ON inbox_entries FOR EACH ROW EXECUTE FUNCTION test_inbox_written()',
    );
    const f = factories(app.prisma);
    ({ org, owner } = await f.orgWithOwner());
    runner = await f.runner(org.id);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('writes a session with its start and prompt inputs in one transaction', async () => {
    const actor = { id: owner.id, name: owner.name };
    const { session, created } = await start.start(request({ prompt: { text: 'hello', actor } }));
    expect(created).toBe(true);

    const inbox = await app.prisma.inboxEntry.findMany({
      where: { sessionId: session.id },
      orderBy: { position: 'asc' },
    });
    expect(inbox.map((r) => [r.kind, r.idempotencyKey])).toEqual([
      ['start', 'start'],
      ['message', 'prompt'],
    ]);
    expect(inbox[0].input).toEqual({
      kind: 'start',
      spec: {
        sessionId: session.id,
        agent,
        harness: 'yoke',
        model: null,
        workspace: null,
        policies: [],
        orgId: session.orgId,
      },
    });
    expect(inbox[1].input).toEqual({ kind: 'message', content: [{ type: 'text', text: 'hello' }], actor });

    const [sessionTx] = await xmin('sessions', 'id', session.id);
    expect(await inboxWrittenIn(session.id)).toEqual([sessionTx, sessionTx]);
  });

  it('leaves no session and no input when the prompt cannot be written', async () => {
    const drop = await refuseInbox('refuse_prompt', `NEW.input->'content'->0->>'text' = 'refuse me'`);
    try {
      const before = await inboxCount();
      const req = request({ prompt: { text: 'refuse me', actor: { id: owner.id, name: owner.name } } });
      await expect(start.start(req)).rejects.toThrow(/refused by test/);
      expect(await sessionsTitled(req.title)).toBe(0);
      expect(await inboxCount()).toBe(before);
    } finally {
      await drop();
    }
  });

  it('forks with the parent items up to seq (same seqs) and its start, in one transaction', async () => {
    const parent = await parentWithItems(3);
    const { session: fork } = await start.start(request({ fork: { sessionId: parent.id, seq: 2 } }));
    expect(fork.lastSeq).toBe(2);
    expect(fork.forkedFrom).toEqual({ sessionId: parent.id, seq: 2 });

    const strip = (rows: { seq: number; type: string; body: unknown; createdAt: Date }[]) =>
      rows.map(({ seq, type, body, createdAt }) => ({ seq, type, body, createdAt }));
    const [parentItems, forkItems] = await Promise.all(
      [parent.id, fork.id].map((sessionId) =>
        app.prisma.sessionItem.findMany({ where: { sessionId }, orderBy: { seq: 'asc' } }),
      ),
    );
    expect(strip(forkItems)).toEqual(strip(parentItems.slice(0, 2)));

    const inbox = await app.prisma.inboxEntry.findMany({ where: { sessionId: fork.id } });
    expect(inbox.map((r) => r.input)).toEqual([
      {
        kind: 'start',
        spec: {
          sessionId: fork.id,
          agent,
          harness: 'yoke',
          model: null,
          workspace: null,
          policies: [],
          baseSeq: 2,
          orgId: fork.orgId,
        },
      },
    ]);
    const [sessionTx] = await xmin('sessions', 'id', fork.id);
    expect(await xmin('session_items', 'session_id', fork.id)).toEqual([sessionTx, sessionTx]);
    expect(await inboxWrittenIn(fork.id)).toEqual([sessionTx]);
  });

  it("asks the runner to copy the original's workspace only when the fork says so", async () => {
    const parent = await parentWithItems(2);
    const { session: copied } = await start.start(
      request({ fork: { sessionId: parent.id, seq: 1, copyWorkspace: true } }),
    );
    const { session: empty } = await start.start(request({ fork: { sessionId: parent.id, seq: 1 } }));
    const specOf = async (sessionId: string) =>
      ((await app.prisma.inboxEntry.findFirstOrThrow({ where: { sessionId } })).input as { spec: object }).spec;
    expect(await specOf(copied.id)).toMatchObject({ baseSeq: 1, forkFrom: parent.id });
    expect(await specOf(empty.id)).not.toHaveProperty('forkFrom');
    expect(copied.forkedFrom).toEqual({ sessionId: parent.id, seq: 1 });
  });

  it('leaves no fork, no copied item and no input when the fork fails mid-way', async () => {
    const parent = await parentWithItems(2);
    const itemsBefore = await app.prisma.sessionItem.count();
    const inboxBefore = await inboxCount();

    // Past the parent's last item: refused after the row was written and the items copied.
    const past = request({ fork: { sessionId: parent.id, seq: 5 } });
    const err = await start.start(past).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('request.invalid');
    expect((err as AppError).message).toBe('the session has no item 5 (its last is 2)');
    expect(await sessionsTitled(past.title)).toBe(0);

    // Postgres refuses the fork's start input: its row and copied items go too.
    const drop = await refuseInbox('refuse_fork_start', `NEW.input->'spec' ? 'baseSeq'`);
    try {
      const refused = request({ fork: { sessionId: parent.id, seq: 2 } });
      await expect(start.start(refused)).rejects.toThrow(/refused by test/);
      expect(await sessionsTitled(refused.title)).toBe(0);
    } finally {
      await drop();
    }
    expect(await app.prisma.sessionItem.count()).toBe(itemsBefore);
    expect(await inboxCount()).toBe(inboxBefore);
  });

  it('makes one child for repeated and concurrent delegate calls with one call id', async () => {
    const { session: parent } = await start.start(request());
    const sessions = app.ctx.get(SessionsService);
    const ask = (callId: string) =>
      sessions.spawnChild(
        { runnerId: runner.id, orgId: org.id },
        { parentId: parent.id, callId, agent: 'helper', prompt: 'help me' },
      );

    const first = await ask('call-1');
    expect(first.created).toBe(true);
    expect(await ask('call-1')).toEqual({ sessionId: first.sessionId, created: false });

    const racing = await Promise.all([ask('call-2'), ask('call-2'), ask('call-2')]);
    expect(new Set(racing.map((r) => r.sessionId)).size).toBe(1);
    expect(racing.filter((r) => r.created)).toHaveLength(1);

    const children = await app.prisma.session.findMany({ where: { parentId: parent.id } });
    expect(children.map((c) => c.id).sort()).toEqual([first.sessionId, racing[0].sessionId].sort());
    for (const child of children) {
      const inbox = await app.prisma.inboxEntry.findMany({
        where: { sessionId: child.id },
        orderBy: { position: 'asc' },
      });
      expect(inbox.map((r) => r.idempotencyKey)).toEqual(['start', 'prompt']);
      expect(inbox[0].input).toMatchObject({ kind: 'start', spec: { sessionId: child.id, parentId: parent.id } });
    }
  });
});
