import {
  factories,
  type Factories,
  hash,
  startTestDatabase,
  type TestDatabase,
} from '../../../../../test/support/factories';
import { CollabRepository } from './collab.repository';

const ANN = { id: 'ann', name: 'Ann' };
const HOUR = 3_600_000;

// Forks (createFork) are covered with SessionsRepository, where they live.
describe('CollabRepository (real Postgres)', () => {
  let db: TestDatabase;
  let repo: CollabRepository;
  let f: Factories;
  beforeAll(async () => {
    db = await startTestDatabase();
    repo = new CollabRepository(db.prisma);
    f = factories(db.prisma);
  });
  afterAll(() => db?.close());

  const link = (s: { orgId: string; id: string }, extra: { expiresAt?: Date; maxUses?: number } = {}) =>
    repo.createLink({
      orgId: s.orgId,
      sessionId: s.id,
      role: 'viewer',
      tokenHash: hash(),
      expiresAt: extra.expiresAt ?? null,
      maxUses: extra.maxUses ?? null,
      createdById: null,
    });

  describe('grants', () => {
    it("keeps one live grant per member and session: a new one replaces it; another org's stays out", async () => {
      const { org, owner, session } = await f.seeded();
      const viewer = await f.member(org.id);
      const grant = (role: 'viewer' | 'driver') =>
        repo.grantUser({
          orgId: org.id,
          sessionId: session.id,
          userId: viewer.id,
          role,
          canApprove: false,
          linkId: null,
          createdById: owner.id,
        });
      const first = await grant('viewer');
      const second = await grant('driver');
      expect((await repo.listGrants(org.id, session.id)).map((g) => [g.id, g.role])).toEqual([[second.id, 'driver']]);
      expect(await repo.findGrant(org.id, session.id, first.id)).toBeNull();
      expect((await repo.findGrant(org.id, session.id, second.id))?.role).toBe('driver');

      const b = await f.seeded();
      expect(await repo.listGrants(b.org.id, session.id)).toEqual([]);
      expect(await repo.findGrant(b.org.id, session.id, second.id)).toBeNull();
      expect(await repo.revokeGrant(b.org.id, session.id, second.id)).toBeNull();
      await expect(repo.updateGrant(b.org.id, second.id, { role: 'viewer' })).rejects.toMatchObject({ code: 'P2025' });

      expect(await repo.updateGrant(org.id, second.id, { canApprove: true })).toMatchObject({ canApprove: true });
      expect((await repo.revokeGrant(org.id, session.id, second.id))?.id).toBe(second.id);
      expect(await repo.revokeGrant(org.id, session.id, second.id)).toBeNull();
      expect(await repo.listGrants(org.id, session.id)).toEqual([]);
    });

    it('refuses a second guest grant with the same credential', async () => {
      const { session } = await f.seeded();
      const l = await link(session);
      const data = {
        orgId: session.orgId,
        sessionId: session.id,
        guestName: 'Guest',
        credentialHash: hash(),
        role: 'viewer' as const,
        linkId: l.id,
      };
      await repo.createGuestGrant(data);
      await expect(repo.createGuestGrant(data)).rejects.toMatchObject({ code: 'P2002' });
    });

    it('names and counts members of the org only', async () => {
      const { org, owner } = await f.orgWithOwner();
      const outsider = (await f.orgWithOwner()).owner;
      expect((await repo.usersByIds(org.id, [owner.id, outsider.id])).map((u) => u.id)).toEqual([owner.id]);
      expect(await repo.usersByIds(org.id, [])).toEqual([]);
      expect(await repo.isMember(org.id, owner.id)).toBe(true);
      expect(await repo.isMember(org.id, outsider.id)).toBe(false);
    });
  });

  describe('links', () => {
    it('spends a use atomically: the limit holds under concurrent opens', async () => {
      const { session } = await f.seeded();
      const l = await link(session, { maxUses: 2 });
      const opens = await Promise.all(Array.from({ length: 5 }, () => repo.useLink(l.tokenHash, new Date(), null)));
      expect(opens.filter(Boolean)).toHaveLength(2);
      expect((await repo.listLinks(session.orgId, session.id))[0]?.uses).toBe(2);
    });

    it("opens nothing and spends nothing for an expired, unknown or other org's link", async () => {
      const { session } = await f.seeded();
      const other = await f.org();
      const expired = await link(session, { expiresAt: new Date(Date.now() - 1000) });
      const live = await link(session, { expiresAt: new Date(Date.now() + HOUR) });
      expect(await repo.useLink(expired.tokenHash, new Date(), null)).toBeNull();
      expect(await repo.useLink(hash(), new Date(), null)).toBeNull();
      expect(await repo.useLink(live.tokenHash, new Date(), other.id)).toBeNull();
      expect((await repo.useLink(live.tokenHash, new Date(), session.orgId))?.uses).toBe(1);
      expect(await repo.listLinks(other.id, session.id)).toEqual([]);
    });

    it('revokes a link with every grant it gave, once', async () => {
      const { org, owner, session } = await f.seeded();
      const l = await link(session);
      const other = await link(session);
      const member = await f.member(org.id);
      const viaLink = await repo.grantUser({
        orgId: org.id,
        sessionId: session.id,
        userId: member.id,
        role: 'viewer',
        canApprove: false,
        linkId: l.id,
        createdById: owner.id,
      });
      const guest = await repo.createGuestGrant({
        orgId: org.id,
        sessionId: session.id,
        guestName: null,
        credentialHash: hash(),
        role: 'viewer',
        linkId: other.id,
      });
      expect(await repo.revokeLink((await f.org()).id, session.id, l.id)).toBeNull();
      const revoked = await repo.revokeLink(org.id, session.id, l.id);
      expect(revoked?.link.id).toBe(l.id);
      expect(revoked?.grants.map((g) => g.id)).toEqual([viaLink.id]);
      expect(await repo.revokeLink(org.id, session.id, l.id)).toBeNull();
      expect(await repo.useLink(l.tokenHash, new Date(), null)).toBeNull();
      expect((await repo.listLinks(org.id, session.id)).map((x) => x.id)).toEqual([other.id]);
      expect((await repo.listGrants(org.id, session.id)).map((g) => g.id)).toEqual([guest.id]);
    });
  });

  describe('comments', () => {
    it('lists oldest first, by file when asked, in its org only; resolves and reopens', async () => {
      const { org, session } = await f.seeded();
      const comment = (path: string | null, body: string) =>
        repo.createComment({
          orgId: org.id,
          sessionId: session.id,
          threadId: null,
          anchor: null,
          path,
          author: ANN,
          body,
        });
      const a = await comment('src/a.ts', 'first');
      const general = await comment(null, 'second');
      const reply = await repo.createComment({
        orgId: org.id,
        sessionId: session.id,
        threadId: a.id,
        anchor: null,
        path: 'src/a.ts',
        author: ANN,
        body: 'reply',
      });
      expect((await repo.listComments(org.id, session.id, undefined)).map((c) => c.id)).toEqual([
        a.id,
        general.id,
        reply.id,
      ]);
      expect((await repo.listComments(org.id, session.id, 'src/a.ts')).map((c) => c.body)).toEqual(['first', 'reply']);

      const b = await f.org();
      expect(await repo.listComments(b.id, session.id, undefined)).toEqual([]);
      expect(await repo.findComment(b.id, session.id, a.id)).toBeNull();
      expect((await repo.findComment(org.id, session.id, a.id))?.author).toEqual(ANN);

      const resolved = await repo.setResolved(org.id, a.id, ANN);
      expect(resolved.resolvedBy).toEqual(ANN);
      expect(resolved.resolvedAt).toBeInstanceOf(Date);
      expect(await repo.setResolved(org.id, a.id, null)).toMatchObject({ resolvedBy: null, resolvedAt: null });
      await expect(repo.setResolved(b.id, a.id, ANN)).rejects.toMatchObject({ code: 'P2025' });
    });
  });
});
