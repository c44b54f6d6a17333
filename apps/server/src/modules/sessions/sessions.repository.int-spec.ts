import { AppError } from '@yoke/protocol';
import { draft, useRepository } from '../../../../../test/support/factories';
import { SessionsRepository } from './sessions.repository';

describe('SessionsRepository (real Postgres)', () => {
  const t = useRepository((db) => new SessionsRepository(db.transactions));

  const seqsOf = async (sessionId: string) =>
    (await t.db.prisma.sessionItem.findMany({ where: { sessionId }, orderBy: { seq: 'asc' } })).map((i) => i.seq);

  describe('appendItems', () => {
    it('stores a batch in order and moves last_seq to its end', async () => {
      const { org, session } = await t.f.seeded();
      const r = await t.repo.appendItems(session.id, draft.notices(1, 3));
      expect(r.appended.map((d) => d.seq)).toEqual([1, 2, 3]);
      expect(r.lastSeq).toBe(3);
      const items = await t.repo.items(org.id, session.id, 0, 10);
      expect(items.map((i) => [i.seq, (i.body as { text: string }).text])).toEqual([
        [1, 'note 1'],
        [2, 'note 2'],
        [3, 'note 3'],
      ]);
      expect((await t.repo.findById(org.id, session.id))?.lastSeq).toBe(3);
    });

    it('stores each item as sent: its content as the body, its actor, turn and time, NULL where it has none', async () => {
      const { org, session } = await t.f.seeded();
      const actor = { id: 'u-1', name: 'Zoë "quoted" \\ back', kind: 'user' as const };
      const text = 'null';
      await t.repo.appendItems(session.id, [
        { seq: 1, type: 'notice', level: 'info', text, createdAt: '2026-01-02T03:04:05.678Z' },
        {
          seq: 2,
          type: 'user_message',
          turnId: 't1',
          actor,
          content: [{ type: 'text', text: 'é ☃ 𝄞 \n\t{"a":[1]}' }],
          createdAt: '2026-01-02T03:04:05.679Z',
        },
      ]);
      const rows = await t.db.prisma.sessionItem.findMany({
        where: { sessionId: session.id },
        orderBy: { seq: 'asc' },
      });
      expect(rows).toEqual([
        {
          sessionId: session.id,
          seq: 1,
          orgId: org.id,
          type: 'notice',
          turnId: null,
          actor: null,
          body: { type: 'notice', level: 'info', text },
          createdAt: new Date('2026-01-02T03:04:05.678Z'),
          erasedAt: null,
        },
        {
          sessionId: session.id,
          seq: 2,
          orgId: org.id,
          type: 'user_message',
          turnId: 't1',
          actor,
          body: { type: 'user_message', content: [{ type: 'text', text: 'é ☃ 𝄞 \n\t{"a":[1]}' }] },
          createdAt: new Date('2026-01-02T03:04:05.679Z'),
          erasedAt: null,
        },
      ]);
      const sql = await t.db.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM session_items WHERE session_id = ${session.id}::uuid AND actor IS NULL`;
      expect(Number(sql[0].n)).toBe(1);
    });

    it('skips a replayed batch (same seqs) instead of storing it twice', async () => {
      const { session } = await t.f.seeded();
      await t.repo.appendItems(session.id, draft.notices(1, 3));
      const replay = await t.repo.appendItems(session.id, draft.notices(1, 3));
      expect(replay).toMatchObject({ appended: [], session: null, lastSeq: 3, changed: false });
      expect(await seqsOf(session.id)).toEqual([1, 2, 3]);
    });

    it('stores only the new tail of a batch that overlaps what is stored', async () => {
      const { session } = await t.f.seeded();
      await t.repo.appendItems(session.id, draft.notices(1, 2));
      const r = await t.repo.appendItems(session.id, draft.notices(1, 4));
      expect(r.appended.map((d) => d.seq)).toEqual([3, 4]);
      expect(await seqsOf(session.id)).toEqual([1, 2, 3, 4]);
    });

    it('refuses a gap with event.seq_gap and stores nothing of the batch', async () => {
      const { org, session } = await t.f.seeded();
      await t.repo.appendItems(session.id, draft.notices(1, 2));
      const err = await t.repo.appendItems(session.id, draft.notices(4, 6)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'event.seq_gap', details: { expectedSeq: 3 } });
      expect(await seqsOf(session.id)).toEqual([1, 2]);
      expect((await t.repo.findById(org.id, session.id))?.lastSeq).toBe(2);
    });

    it('refuses items for a session that does not exist with session.not_found', async () => {
      await expect(
        t.repo.appendItems('00000000-0000-4000-8000-000000000000', draft.notices(1, 1)),
      ).rejects.toMatchObject({ code: 'session.not_found' });
    });

    it('serializes concurrent batches for one session under the row lock: seqs end gap-free and unique', async () => {
      const { org, session } = await t.f.seeded();
      // A runner that reconnects resends overlapping prefixes; without the lock two of these would both read
      // last_seq = 0 and collide on (session_id, seq).
      const batches = [2, 4, 6, 8, 10].map((n) => draft.notices(1, n));
      const results = await Promise.allSettled(batches.map((b) => t.repo.appendItems(session.id, b)));
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
      expect(await seqsOf(session.id)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      const appended = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.appended.map((d) => d.seq) : []));
      expect(appended.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect((await t.repo.findById(org.id, session.id))?.lastSeq).toBe(10);
    });

    it('rolls items into the session: an approval request opens an approval and waits; usage adds up', async () => {
      const { org, session } = await t.f.seeded();
      const at = new Date().toISOString();
      const r = await t.repo.appendItems(session.id, [
        { seq: 1, type: 'turn_started', turnId: 't1', createdAt: at },
        {
          seq: 2,
          type: 'usage',
          model: 'm',
          inputTokens: 100,
          outputTokens: 20,
          cachedTokens: 0,
          costUsd: 0.25,
          createdAt: at,
        },
        {
          seq: 3,
          type: 'approval_request',
          approvalId: 'a1',
          policy: 'ask',
          reason: 'runs rm',
          options: ['approve', 'deny'],
          createdAt: at,
        },
      ]);
      expect(r.changed).toBe(true);
      expect(r.session).toEqual({ id: session.id, orgId: org.id, ownerId: session.ownerId });
      const stored = await t.repo.findById(org.id, session.id);
      expect(stored).toMatchObject({
        status: 'waiting_approval',
        statusReason: 'runs rm',
        inputTokens: 100n,
        lastSeq: 3,
      });
      expect(Number(stored?.costUsd)).toBe(0.25);
      expect(stored!.updatedAt.getTime()).toBeGreaterThanOrEqual(session.updatedAt.getTime());
      const approval = await t.db.prisma.approval.findFirst({ where: { sessionId: session.id, approvalId: 'a1' } });
      expect(approval).toMatchObject({ orgId: org.id, status: 'pending' });
    });
  });

  describe('metered usage', () => {
    const metered = (seq: number, costMicros: number, at: string, actor?: { id: string; name: string }) => ({
      seq,
      type: 'metered_usage' as const,
      turnId: 't1',
      ...(actor ? { actor } : {}),
      provider: 'anthropic' as const,
      api: 'messages' as const,
      host: 'api.anthropic.com',
      model: 'claude-sonnet-4-5',
      inputTokens: 1200,
      outputTokens: 220,
      cacheReadTokens: 300,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      costMicros,
      priceVersion: '2026-12-01',
      requestId: `req_${seq}`,
      streamed: true,
      createdAt: at,
    });
    const usage = (seq: number, costUsd: number, at: string) => ({
      seq,
      type: 'usage' as const,
      turnId: 't1',
      model: 'claude-sonnet-4-5',
      inputTokens: 1500,
      outputTokens: 220,
      cachedTokens: 300,
      costUsd,
      createdAt: at,
    });

    it('stores each metered call once as a fact of the session, its harness and whose spend it is', async () => {
      const { org, owner, session } = await t.f.seeded();
      const at = new Date().toISOString();
      const batch = [
        { seq: 1, type: 'turn_started' as const, turnId: 't1', createdAt: at },
        metered(2, 6_990, at, { id: owner.id, name: 'Owner' }),
        metered(3, 6_990, at, { id: 'guest-grant-1', name: 'Guest' }),
      ];
      await t.repo.appendItems(session.id, batch);
      await t.repo.appendItems(session.id, batch); // a redelivered batch adds nothing
      const rows = await t.db.prisma.meteredUsage.findMany({
        where: { sessionId: session.id },
        orderBy: { itemSeq: 'asc' },
      });
      expect(rows.map((r) => [r.itemSeq, Number(r.costMicros), r.userId, r.orgId, r.harness, r.requestId])).toEqual([
        [2, 6_990, owner.id, org.id, session.harness, 'req_2'],
        // Not a person of the org: the spend is the session owner's.
        [3, 6_990, session.ownerId, org.id, session.harness, 'req_3'],
      ]);
      expect(rows[0]).toMatchObject({ inputTokens: 1200n, cacheReadTokens: 300n, outputTokens: 220n, turnId: 't1' });
    });

    it('names a turn whose harness report and metered cost disagree when it ends, and not one that agrees', async () => {
      const { session } = await t.f.seeded();
      const at = new Date().toISOString();
      const honest = await t.repo.appendItems(session.id, [
        { seq: 1, type: 'turn_started', turnId: 't1', createdAt: at },
        metered(2, 6_990, at),
        usage(3, 0.00699, at),
        { seq: 4, type: 'turn_completed', turnId: 't1', stopReason: 'end_turn', createdAt: at },
      ]);
      expect(honest.mismatches).toEqual([]);
      const { session: other } = await t.f.seeded();
      const first = await t.repo.appendItems(other.id, [
        { seq: 1, type: 'turn_started', turnId: 't1', createdAt: at },
        metered(2, 6_990, at),
        metered(3, 6_990, at),
        usage(4, 0, at),
      ]);
      expect(first.mismatches).toEqual([]); // the turn has not ended yet
      const ended = await t.repo.appendItems(other.id, [
        { seq: 5, type: 'turn_failed', turnId: 't1', error: 'stopped', createdAt: at },
      ]);
      expect(ended.mismatches).toEqual([{ turnId: 't1', reportedMicros: 0, meteredMicros: 13_980, calls: 2 }]);
    });
  });

  describe('create', () => {
    it('creates the session and its inbox entries in order; the same idempotency key returns the first one', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const data = {
        orgId: org.id,
        ownerId: owner.id,
        runnerId: (await t.f.runner(org.id)).id,
        title: 't',
        agent: { name: 'helper' },
        harness: 'yoke',
        model: null,
        workspace: null,
        policies: [],
        idempotencyKey: 'k1',
      };
      const inputs = () => [
        { input: { kind: 'start' } as never, key: 'start' },
        { input: { kind: 'prompt', text: 'hi' } as never, key: 'prompt' },
      ];
      const first = await t.repo.create(data, inputs);
      expect(first.created).toBe(true);
      expect(first.inbox.map((e) => e.kind)).toEqual(['start', 'prompt']);
      const again = await t.repo.create(data, inputs);
      expect(again).toMatchObject({ created: false, inbox: [] });
      expect(again.session.id).toBe(first.session.id);
      expect((await t.repo.findByIdempotencyKey(org.id, owner.id, 'k1'))?.id).toBe(first.session.id);
      expect(await t.db.prisma.session.count({ where: { orgId: org.id } })).toBe(1);
    });
  });

  describe('reads', () => {
    it("never returns org B's session for org A, and null for an unknown id", async () => {
      const a = await t.f.seeded();
      const b = await t.f.seeded();
      expect((await t.repo.findById(a.org.id, a.session.id))?.id).toBe(a.session.id);
      expect(await t.repo.findById(a.org.id, b.session.id)).toBeNull();
      expect(await t.repo.findById(a.org.id, '00000000-0000-4000-8000-000000000000')).toBeNull();
      expect(await t.repo.findByIdempotencyKey(a.org.id, a.owner.id, 'missing')).toBeNull();
      await t.repo.appendItems(b.session.id, draft.notices(1, 2));
      expect(await t.repo.items(a.org.id, b.session.id, 0, 10)).toEqual([]);
    });

    it('pages items after a seq, oldest first, one extra row to tell that more follow', async () => {
      const { org, session } = await t.f.seeded();
      await t.repo.appendItems(session.id, draft.notices(1, 5));
      expect((await t.repo.items(org.id, session.id, 1, 2)).map((i) => i.seq)).toEqual([2, 3, 4]);
      expect((await t.repo.items(org.id, session.id, 4, 2)).map((i) => i.seq)).toEqual([5]);
    });

    it("finds a session for its runner, lists a runner's live sessions, and reports stored seqs", async () => {
      const { org, owner, runner, session } = await t.f.seeded();
      await t.f.session(org.id, owner.id, { runnerId: runner.id, status: 'archived' });
      const elsewhere = await t.f.seeded();
      await t.repo.appendItems(session.id, draft.notices(1, 3));

      expect(await t.repo.findForRunner(session.id)).toEqual({ id: session.id, orgId: org.id, runnerId: runner.id });
      expect(await t.repo.findForRunner('00000000-0000-4000-8000-000000000000')).toBeNull();
      expect((await t.repo.listForRunner(runner.id, 10)).map((s) => s.id)).toEqual([session.id]);
      expect(await t.repo.persistedSeqs(runner.id, [session.id, elsewhere.session.id])).toEqual([
        { id: session.id, lastSeq: 3 },
      ]);
    });
  });

  describe('writes', () => {
    it("fails only the runner's sessions that are mid-turn, in its org", async () => {
      const { org, owner, runner } = await t.f.seeded();
      const running = await t.f.session(org.id, owner.id, { runnerId: runner.id, status: 'running' });
      const waiting = await t.f.session(org.id, owner.id, { runnerId: runner.id, status: 'waiting_approval' });
      const idle = await t.f.session(org.id, owner.id, { runnerId: runner.id, status: 'idle' });
      const failed = await t.repo.failActiveSessions(org.id, runner.id, 'runner offline');
      expect(failed.map((s) => s.id).sort()).toEqual([running.id, waiting.id].sort());
      expect(failed.every((s) => s.status === 'failed' && s.statusReason === 'runner offline')).toBe(true);
      expect((await t.repo.findById(org.id, idle.id))?.status).toBe('idle');

      const other = await t.f.orgWithOwner();
      expect(await t.repo.failActiveSessions(other.org.id, runner.id, 'x')).toEqual([]);
    });
  });
});
