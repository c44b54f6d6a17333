import { MAX_SEQ } from '@yoke/protocol';
import { ITEMS_PAGE_BYTES, SessionReadsRepository, SMALL_PAGE_ITEMS } from './session-reads.repository';

/** A page's items as the JSON array clients receive. */
const arrayOf = (page: { chunks: string[] }) => `[${page.chunks.join(',')}]`;
import { toItem } from './session.mapper';
import { SessionsRepository } from './sessions.repository';
import { draft, useRepository } from '../../../../../test/support/factories';

describe('SessionReadsRepository (real Postgres)', () => {
  const t = useRepository((db) => ({
    reads: new SessionReadsRepository(db.transactions),
    sessions: new SessionsRepository(db.transactions),
  }));

  describe('findViewable', () => {
    it('reads the row Prisma reads (types included), with its runner, in the org only', async () => {
      const a = await t.f.seeded();
      const b = await t.f.seeded();
      await t.db.prisma.session.update({
        where: { id: a.session.id },
        data: { costUsd: '1.234567', inputTokens: 12n, outputTokens: 3n, workspace: '/w', statusReason: 'why' },
      });
      await t.db.prisma.runner.update({ where: { id: a.runner.id }, data: { online: true, lastSeenAt: new Date() } });
      const found = await t.repo.reads.findViewable(a.org.id, a.session.id, a.owner.id);
      expect(found).toEqual({ session: await t.repo.sessions.findById(a.org.id, a.session.id), grant: null });
      const runnerless = await t.f.session(a.org.id, a.owner.id);
      expect((await t.repo.reads.findViewable(a.org.id, runnerless.id, a.owner.id))?.session).toEqual(
        await t.repo.sessions.findById(a.org.id, runnerless.id),
      );
      expect(await t.repo.reads.findViewable(a.org.id, b.session.id, a.owner.id)).toBeNull();
      expect(await t.repo.reads.findViewable(b.org.id, a.session.id, b.owner.id)).toBeNull();
      expect(await t.repo.reads.findViewable(a.org.id, '00000000-0000-4000-8000-000000000000', a.owner.id)).toBeNull();
    });

    it("brings the caller's most recent live grant, never another user's or a revoked one", async () => {
      const { org, session } = await t.f.seeded();
      const viewer = await t.f.member(org.id);
      const other = await t.f.member(org.id);
      const grant = (userId: string, data: { role: 'viewer' | 'driver'; createdAt?: Date; revokedAt?: Date }) =>
        t.db.prisma.sessionGrant.create({ data: { orgId: org.id, sessionId: session.id, userId, ...data } });
      await grant(other.id, { role: 'driver' });
      expect((await t.repo.reads.findViewable(org.id, session.id, viewer.id))?.grant).toBeNull();
      const old = await grant(viewer.id, { role: 'viewer', createdAt: new Date(Date.now() - 60_000) });
      expect((await t.repo.reads.findViewable(org.id, session.id, viewer.id))?.grant).toEqual({
        id: old.id,
        role: 'viewer',
        canApprove: false,
        linkId: null,
      });
      const newer = await grant(viewer.id, { role: 'driver' });
      expect((await t.repo.reads.findViewable(org.id, session.id, viewer.id))?.grant).toMatchObject({
        id: newer.id,
        role: 'driver',
      });
      await t.db.prisma.sessionGrant.updateMany({ where: { userId: viewer.id }, data: { revokedAt: new Date() } });
      expect((await t.repo.reads.findViewable(org.id, session.id, viewer.id))?.grant).toBeNull();
    });

    it('is prepared once per connection, and its reused plan keeps each org to its own rows', async () => {
      const a = await t.f.seeded();
      const b = await t.f.seeded();
      // Past Postgres' five custom plans a prepared statement may run on its generic plan: the reads must not change.
      for (let i = 0; i < 8; i++) {
        expect((await t.repo.reads.findViewable(a.org.id, a.session.id, a.owner.id))?.session.id).toBe(a.session.id);
        expect(await t.repo.reads.findViewable(b.org.id, a.session.id, b.owner.id)).toBeNull();
        expect((await t.repo.reads.findViewable(b.org.id, b.session.id, b.owner.id))?.session.orgId).toBe(b.org.id);
      }
      // Every connection of the pool that ran it holds the statement once, under its name.
      const pool = t.db.prisma.pool;
      const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
      try {
        const held = await Promise.all(
          clients.map(async (c) => {
            const r = await c.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'yoke\\_%' AND statement LIKE '%LEFT JOIN runners r%LATERAL%'`,
            );
            return Number(r.rows[0].n);
          }),
        );
        expect(held.every((n) => n <= 1)).toBe(true);
        expect(held.some((n) => n === 1)).toBe(true);
      } finally {
        for (const c of clients) c.release();
      }
    });
  });

  describe('findItemsPage', () => {
    it('reads the items Prisma reads, after a seq, as toItem writes them, the owner and last seq; org-scoped', async () => {
      const a = await t.f.seeded();
      const b = await t.f.seeded();
      const { lastSeq } = await t.repo.sessions.appendItems(a.session.id, draft.notices(1, 5));
      const page = await t.repo.reads.findItemsPage(a.org.id, a.session.id, a.owner.id, 1, 2);
      expect(page).toEqual({
        session: { id: a.session.id, ownerId: a.owner.id, lastSeq },
        grant: null,
        chunks: expect.any(Array),
        bytes: expect.any(Number),
        hasMore: true,
      });
      expect(page!.bytes).toBe(Buffer.byteLength(page!.chunks.join(',')));
      const prisma = await t.repo.sessions.items(a.org.id, a.session.id, 1, 2);
      expect(JSON.parse(arrayOf(page!))).toStrictEqual(prisma.slice(0, 2).map(toItem));
      expect(JSON.parse(arrayOf(page!)).map((i: { seq: number }) => i.seq)).toEqual([2, 3]);
      // Inside a transaction the same statement goes through its client (Prisma), with the same answer.
      expect(
        await t.db.transactions.run(() => t.repo.reads.findItemsPage(a.org.id, a.session.id, a.owner.id, 1, 2)),
      ).toEqual(page);
      const rest = await t.repo.reads.findItemsPage(a.org.id, a.session.id, a.owner.id, 3, 2);
      expect(rest).toMatchObject({ hasMore: false });
      expect(JSON.parse(arrayOf(rest!)).map((i: { seq: number }) => i.seq)).toEqual([4, 5]);
      expect(await t.repo.reads.findItemsPage(a.org.id, a.session.id, a.owner.id, 5, 10)).toMatchObject({
        chunks: [],
        bytes: 0,
        hasMore: false,
      });
      expect(await t.repo.reads.findItemsPage(b.org.id, b.session.id, b.owner.id, 0, 10)).toMatchObject({
        session: { lastSeq: 0 },
        chunks: [],
        bytes: 0,
        hasMore: false,
      });
      // After the largest seq there is: an empty page, on both paths (the large one's bounds pass int's range).
      for (const limit of [10, 10_000]) {
        expect(await t.repo.reads.findItemsPage(a.org.id, a.session.id, a.owner.id, MAX_SEQ, limit)).toMatchObject({
          chunks: [],
          bytes: 0,
          hasMore: false,
        });
      }
      expect(await t.repo.reads.findItemsPage(b.org.id, a.session.id, b.owner.id, 0, 10)).toBeNull();
      expect(await t.repo.reads.findItemsPage(a.org.id, b.session.id, a.owner.id, 0, 10)).toBeNull();
    });

    it("writes each item's JSON exactly as toItem does: turn and actor only when set, erased items, any text", async () => {
      const { org, owner, session } = await t.f.seeded();
      const text = "quotes \" and \\ backslash, 'single', newline\n tab\t \u2028 \u0001 é 漢字 🚀 </script>";
      const actor = { kind: 'user', userId: owner.id, name: 'Zoë "Z" Ωmega' };
      const rows = [
        { seq: 1, type: 'turn_started', turnId: 't-1', body: { type: 'turn_started' }, createdAt: at('00.000') },
        {
          seq: 2,
          type: 'user_message',
          turnId: 't-1',
          actor,
          body: { type: 'user_message', text, content: [{ type: 'text', text }] },
          createdAt: at('01.001'),
        },
        {
          seq: 3,
          type: 'agent_message',
          turnId: 't-1',
          body: { type: 'agent_message', streamId: 's"1', text: '' },
          createdAt: at('02.999'),
        },
        {
          seq: 4,
          type: 'notice',
          turnId: '',
          body: {
            type: 'notice',
            level: 'warn',
            text,
            detail: { n: 0.1, big: 9007199254740991, tiny: 1.5e-7, no: null },
          },
          createdAt: at('03.500'),
        },
        // Past retention: the sweep replaced the content and marked it; reads send what is stored.
        {
          seq: 5,
          type: 'agent_message',
          turnId: 't-1',
          body: { type: 'agent_message', streamId: 's2', text: '[erased by retention]' },
          createdAt: at('04.010'),
          erasedAt: new Date(),
        },
        { seq: 6, type: 'notice', body: {}, createdAt: at('05.000') },
        // Envelope fields in a body (none is written so today): the envelope's win, as in toItem's spread.
        {
          seq: 7,
          type: 'notice',
          turnId: 't-2',
          body: { type: 'notice', level: 'info', text: 'x', seq: 99, turnId: 'body', createdAt: 'then' },
          createdAt: at('06.000'),
        },
      ];
      for (const r of rows) {
        await t.db.prisma.sessionItem.create({ data: { ...r, sessionId: session.id, orgId: org.id } });
      }
      // An actor stored as JSON null (not SQL NULL) is as unset as a missing one.
      await t.db.prisma
        .$executeRaw`UPDATE session_items SET actor = 'null'::jsonb WHERE session_id = ${session.id}::uuid AND seq = 3`;
      await t.db.prisma.session.update({ where: { id: session.id }, data: { lastSeq: rows.length } });
      const page = await t.repo.reads.findItemsPage(org.id, session.id, owner.id, 0, 10);
      const prisma = await t.repo.sessions.items(org.id, session.id, 0, 10);
      expect(prisma).toHaveLength(rows.length);
      expect(JSON.parse(arrayOf(page!))).toStrictEqual(prisma.map(toItem));
      // A page past SMALL_PAGE_ITEMS is written by Postgres: the same items.
      const large = await t.repo.reads.findItemsPage(org.id, session.id, owner.id, 0, SMALL_PAGE_ITEMS + 1);
      expect(JSON.parse(arrayOf(large!))).toStrictEqual(prisma.map(toItem));
      expect(large!.hasMore).toBe(false);
      const [started, message, answer, notice, erased, empty, clash] = JSON.parse(arrayOf(page!)) as Record<
        string,
        unknown
      >[];
      expect(started).toMatchObject({ turnId: 't-1', createdAt: '2030-01-01T00:00:00.000Z' });
      expect(started).not.toHaveProperty('actor');
      expect(message).toMatchObject({ actor, text, createdAt: '2030-01-01T00:00:01.001Z' });
      expect(answer).not.toHaveProperty('actor');
      expect(answer.createdAt).toBe('2030-01-01T00:00:02.999Z');
      expect(notice).not.toHaveProperty('turnId');
      expect(erased).toMatchObject({ text: '[erased by retention]', seq: 5, sessionId: session.id });
      expect(erased).not.toHaveProperty('erasedAt');
      expect(empty).toStrictEqual({ seq: 6, sessionId: session.id, createdAt: '2030-01-01T00:00:05.000Z' });
      expect(clash).toMatchObject({ seq: 7, turnId: 't-2', createdAt: '2030-01-01T00:00:06.000Z' });
    });

    it('pages over many rows in seq order, and ends a page early at its size in bytes', async () => {
      const { org, owner, session } = await t.f.seeded();
      await t.repo.sessions.appendItems(session.id, draft.notices(1, 1201));
      const page = await t.repo.reads.findItemsPage(org.id, session.id, owner.id, 50, 1100);
      expect(page?.hasMore).toBe(true);
      expect(JSON.parse(arrayOf(page!))).toStrictEqual(
        (await t.repo.sessions.items(org.id, session.id, 50, 1100)).slice(0, 1100).map(toItem),
      );
      const all = await t.repo.reads.findItemsPage(org.id, session.id, owner.id, 0, 10_000);
      expect(all?.hasMore).toBe(false);
      expect(JSON.parse(arrayOf(all!)).map((i: { seq: number }) => i.seq)).toEqual(
        Array.from({ length: 1201 }, (_, k) => k + 1),
      );

      // Three items of just over half ITEMS_PAGE_BYTES each ('é' is two bytes): a page holds one, never two.
      const big = await t.f.session(org.id, owner.id);
      const text = 'é'.repeat(ITEMS_PAGE_BYTES / 4);
      for (const seq of [1, 2, 3]) {
        await t.db.prisma.sessionItem.create({
          data: {
            sessionId: big.id,
            orgId: org.id,
            seq,
            type: 'notice',
            body: { type: 'notice', level: 'info', text },
            createdAt: at('00.000'),
          },
        });
      }
      // The same bound whether the page is small (its JSON written here) or large (written by Postgres).
      for (const limit of [10, SMALL_PAGE_ITEMS + 1]) {
        const seqs = async (after: number) => {
          const p = await t.repo.reads.findItemsPage(org.id, big.id, owner.id, after, limit);
          expect(p!.bytes).toBe(Buffer.byteLength(p!.chunks.join(',')));
          return [JSON.parse(arrayOf(p!)).map((i: { seq: number }) => i.seq), p!.hasMore];
        };
        expect(await seqs(0)).toEqual([[1], true]);
        expect(await seqs(2)).toEqual([[3], false]);
      }
    });

    it('ends a large page at the last whole chunk within its size in bytes, and pages on from there', async () => {
      const { org, owner, session } = await t.f.seeded();
      // 1,200 items of ~10 KB: a chunk of 500 is ~5 MB, so a page holds one chunk, never two (8 MB).
      const text = 'x'.repeat(10_000);
      const items = draft.notices(1, 1200).map((d) => ({ ...d, text }));
      for (let i = 0; i < items.length; i += 300)
        await t.repo.sessions.appendItems(session.id, items.slice(i, i + 300));
      const seen: number[] = [];
      let after = 0;
      for (let more = true; more;) {
        const page = await t.repo.reads.findItemsPage(org.id, session.id, owner.id, after, 10_000);
        expect(page!.bytes).toBe(Buffer.byteLength(page!.chunks.join(',')));
        expect(Buffer.byteLength(arrayOf(page!))).toBeLessThanOrEqual(ITEMS_PAGE_BYTES);
        const seqs = (JSON.parse(arrayOf(page!)) as { seq: number; text: string }[]).map((i) => {
          expect(i.text).toBe(text);
          return i.seq;
        });
        expect(seqs.length).toBeGreaterThan(0);
        seen.push(...seqs);
        after = seqs.at(-1)!;
        more = page!.hasMore;
      }
      expect(seen).toEqual(Array.from({ length: 1200 }, (_, k) => k + 1));
      // One chunk per page: 500, 500, then the last 200.
      const first = await t.repo.reads.findItemsPage(org.id, session.id, owner.id, 0, 10_000);
      expect(JSON.parse(arrayOf(first!))).toHaveLength(500);
    });

    it("brings the caller's live grant", async () => {
      const { org, session } = await t.f.seeded();
      const viewer = await t.f.member(org.id);
      const g = await t.db.prisma.sessionGrant.create({
        data: { orgId: org.id, sessionId: session.id, userId: viewer.id, role: 'commenter', canApprove: true },
      });
      // A small page and a large one (Postgres' JSON) alike.
      for (const limit of [10, SMALL_PAGE_ITEMS + 1]) {
        expect((await t.repo.reads.findItemsPage(org.id, session.id, viewer.id, 0, limit))?.grant).toEqual({
          id: g.id,
          role: 'commenter',
          canApprove: true,
          linkId: null,
        });
      }
      const stranger = await t.f.member(org.id);
      expect((await t.repo.reads.findItemsPage(org.id, session.id, stranger.id, 0, SMALL_PAGE_ITEMS + 1))?.grant).toBe(
        null,
      );
    });
  });

  describe('list', () => {
    it("reads the rows Prisma reads, with their runners, never another org's", async () => {
      const a = await t.f.seeded();
      const b = await t.f.seeded();
      expect(await t.repo.reads.list(a.org.id, { includeArchived: true, limit: 50 })).toEqual([
        await t.repo.sessions.findById(a.org.id, a.session.id),
      ]);
      expect((await t.repo.reads.list(b.org.id, { includeArchived: true, limit: 50 })).map((s) => s.id)).toEqual([
        b.session.id,
      ]);
    });

    it('lists newest first and pages by (updatedAt, id) without repeats or holes', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const base = Date.UTC(2030, 0, 1);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        // Two share an updatedAt: the id breaks the tie.
        const updatedAt = new Date(base + Math.min(i, 3) * 1000);
        ids.push((await t.f.session(org.id, owner.id, { updatedAt })).id);
      }
      const all = await t.repo.reads.list(org.id, { includeArchived: false, limit: 10 });
      expect(
        all
          .map((s) => s.id)
          .slice(0, 2)
          .sort(),
      ).toEqual([ids[3], ids[4]].sort());
      expect(all.map((s) => s.id).slice(2)).toEqual([ids[2], ids[1], ids[0]]);

      const seen: string[] = [];
      let cursor: { updatedAt: Date; id: string } | undefined;
      for (;;) {
        const page = await t.repo.reads.list(org.id, { includeArchived: false, limit: 2, cursor });
        const shown = page.slice(0, 2);
        seen.push(...shown.map((s) => s.id));
        if (page.length <= 2) break; // limit + 1 rows mean there is a next page
        cursor = { updatedAt: shown[1].updatedAt, id: shown[1].id };
      }
      expect(seen).toEqual(all.map((s) => s.id));
    });

    it('filters by status, archived, visibility and parent', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const other = await t.f.member(org.id);
      const idle = await t.f.session(org.id, owner.id);
      const archived = await t.f.session(org.id, owner.id, { status: 'archived' });
      const running = await t.f.session(org.id, other.id, { status: 'running', parentId: idle.id });
      const shared = await t.f.session(org.id, other.id);
      const ids = async (opts: Parameters<SessionReadsRepository['list']>[1]) =>
        (await t.repo.reads.list(org.id, opts)).map((s) => s.id).sort();

      expect(await ids({ includeArchived: false, limit: 10 })).toEqual([idle.id, running.id, shared.id].sort());
      expect(await ids({ includeArchived: true, limit: 10 })).toHaveLength(4);
      expect(await ids({ status: 'archived', includeArchived: false, limit: 10 })).toEqual([archived.id]);
      expect(await ids({ status: 'running', includeArchived: false, limit: 10 })).toEqual([running.id]);
      expect(
        await ids({ includeArchived: true, limit: 10, visibleTo: { ownerId: owner.id, grantedIds: [shared.id] } }),
      ).toEqual([idle.id, archived.id, shared.id].sort());
      expect(await ids({ includeArchived: true, limit: 10, visibleTo: { ownerId: owner.id, grantedIds: [] } })).toEqual(
        [idle.id, archived.id].sort(),
      );
      expect(await ids({ includeArchived: true, limit: 10, parentId: idle.id })).toEqual([running.id]);
    });

    it('searches title, agent name, harness, model and id, case-insensitively, with % and _ as themselves', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const stranger = await t.f.orgWithOwner();
      const fix = await t.f.session(org.id, owner.id, { title: 'Fix the Login flow', harness: 'codex' });
      const percent = await t.f.session(org.id, owner.id, { title: 'raise coverage to 100% now', model: 'gpt-5' });
      const reviewer = await t.f.session(org.id, owner.id, { title: 'weekly', agent: { name: 'Code_Reviewer' } });
      const archived = await t.f.session(org.id, owner.id, { title: 'old login work', status: 'archived' });
      // Another org's session with a matching title is never found.
      await t.f.session(stranger.org.id, stranger.owner.id, { title: 'login everywhere' });
      const ids = async (search: string, includeArchived = false) =>
        (await t.repo.reads.list(org.id, { includeArchived, limit: 10, search })).map((s) => s.id).sort();

      expect(await ids('LOGIN')).toEqual([fix.id]);
      expect(await ids('login', true)).toEqual([fix.id, archived.id].sort());
      expect(await ids('CODEX')).toEqual([fix.id]);
      expect(await ids('gpt-5')).toEqual([percent.id]);
      expect(await ids('code_rev')).toEqual([reviewer.id]);
      expect(await ids(reviewer.id.slice(0, 13))).toEqual([reviewer.id]);
      // `%` and `_` are literal: as patterns, "%" would match every session and "o_e" the "ode" of "Code_Reviewer".
      expect(await ids('100%')).toEqual([percent.id]);
      expect(await ids('%')).toEqual([percent.id]);
      expect(await ids('e_r')).toEqual([reviewer.id]);
      expect(await ids('o_e')).toEqual([]);
      expect(await ids('\\')).toEqual([]);
    });
  });
});

/** A fixed instant with the given seconds and milliseconds ("ss.mmm"). */
function at(secondsAndMs: string): Date {
  return new Date(`2030-01-01T00:00:${secondsAndMs}Z`);
}
