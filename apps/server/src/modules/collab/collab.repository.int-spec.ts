import { hash, useRepository } from '../../../../../test/support/factories';
import { CollabRepository } from './collab.repository';

const ANN = { id: 'ann', name: 'Ann' };
const HOUR = 3_600_000;

// Forks (createFork) are covered with SessionsRepository, where they live.
describe('CollabRepository (real Postgres)', () => {
  const t = useRepository((db) => new CollabRepository(db.transactions));

  const link = (s: { orgId: string; id: string }, extra: { expiresAt?: Date; maxUses?: number } = {}) =>
    t.repo.createLink({
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
      const { org, owner, session } = await t.f.seeded();
      const viewer = await t.f.member(org.id);
      const grant = (role: 'viewer' | 'driver') =>
        t.repo.grantUser({
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
      expect((await t.repo.listGrants(org.id, session.id)).map((g) => [g.id, g.role])).toEqual([[second.id, 'driver']]);
      expect(await t.repo.findGrant(org.id, session.id, first.id)).toBeNull();
      expect((await t.repo.findGrant(org.id, session.id, second.id))?.role).toBe('driver');

      const b = await t.f.seeded();
      expect(await t.repo.listGrants(b.org.id, session.id)).toEqual([]);
      expect(await t.repo.findGrant(b.org.id, session.id, second.id)).toBeNull();
      expect(await t.repo.revokeGrant(b.org.id, session.id, second.id)).toBeNull();
      await expect(t.repo.updateGrant(b.org.id, second.id, { role: 'viewer' })).rejects.toMatchObject({
        code: 'P2025',
      });

      expect(await t.repo.updateGrant(org.id, second.id, { canApprove: true })).toMatchObject({ canApprove: true });
      expect((await t.repo.revokeGrant(org.id, session.id, second.id))?.id).toBe(second.id);
      expect(await t.repo.revokeGrant(org.id, session.id, second.id)).toBeNull();
      expect(await t.repo.listGrants(org.id, session.id)).toEqual([]);
    });

    it('refuses a second guest grant with the same credential', async () => {
      const { session } = await t.f.seeded();
      const l = await link(session);
      const data = {
        orgId: session.orgId,
        sessionId: session.id,
        guestName: 'Guest',
        credentialHash: hash(),
        role: 'viewer' as const,
        linkId: l.id,
      };
      await t.repo.createGuestGrant(data);
      await expect(t.repo.createGuestGrant(data)).rejects.toMatchObject({ code: 'P2002' });
    });

    it('names and counts members of the org only', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const outsider = (await t.f.orgWithOwner()).owner;
      expect((await t.repo.usersByIds(org.id, [owner.id, outsider.id])).map((u) => u.id)).toEqual([owner.id]);
      expect(await t.repo.usersByIds(org.id, [])).toEqual([]);
      expect(await t.repo.isMember(org.id, owner.id)).toBe(true);
      expect(await t.repo.isMember(org.id, outsider.id)).toBe(false);
    });
  });

  describe('links', () => {
    it('spends a use atomically: the limit holds under concurrent opens', async () => {
      const { session } = await t.f.seeded();
      const l = await link(session, { maxUses: 2 });
      const opens = await Promise.all(Array.from({ length: 5 }, () => t.repo.useLink(l.tokenHash, new Date(), null)));
      expect(opens.filter(Boolean)).toHaveLength(2);
      expect((await t.repo.listLinks(session.orgId, session.id))[0]?.uses).toBe(2);
    });

    it("opens nothing and spends nothing for an expired, unknown or other org's link", async () => {
      const { session } = await t.f.seeded();
      const other = await t.f.org();
      const expired = await link(session, { expiresAt: new Date(Date.now() - 1000) });
      const live = await link(session, { expiresAt: new Date(Date.now() + HOUR) });
      expect(await t.repo.useLink(expired.tokenHash, new Date(), null)).toBeNull();
      expect(await t.repo.useLink(hash(), new Date(), null)).toBeNull();
      expect(await t.repo.useLink(live.tokenHash, new Date(), other.id)).toBeNull();
      expect((await t.repo.useLink(live.tokenHash, new Date(), session.orgId))?.uses).toBe(1);
      expect(await t.repo.listLinks(other.id, session.id)).toEqual([]);
    });

    it('revokes a link with every grant it gave, once', async () => {
      const { org, owner, session } = await t.f.seeded();
      const l = await link(session);
      const other = await link(session);
      const member = await t.f.member(org.id);
      const viaLink = await t.repo.grantUser({
        orgId: org.id,
        sessionId: session.id,
        userId: member.id,
        role: 'viewer',
        canApprove: false,
        linkId: l.id,
        createdById: owner.id,
      });
      const guest = await t.repo.createGuestGrant({
        orgId: org.id,
        sessionId: session.id,
        guestName: null,
        credentialHash: hash(),
        role: 'viewer',
        linkId: other.id,
      });
      expect(await t.repo.revokeLink((await t.f.org()).id, session.id, l.id)).toBeNull();
      const revoked = await t.repo.revokeLink(org.id, session.id, l.id);
      expect(revoked?.link.id).toBe(l.id);
      expect(revoked?.grants.map((g) => g.id)).toEqual([viaLink.id]);
      expect(await t.repo.revokeLink(org.id, session.id, l.id)).toBeNull();
      expect(await t.repo.useLink(l.tokenHash, new Date(), null)).toBeNull();
      expect((await t.repo.listLinks(org.id, session.id)).map((x) => x.id)).toEqual([other.id]);
      expect((await t.repo.listGrants(org.id, session.id)).map((g) => g.id)).toEqual([guest.id]);
    });
  });

  describe('comments', () => {
    it('lists oldest first, by file when asked, in its org only; resolves and reopens', async () => {
      const { org, session } = await t.f.seeded();
      const comment = (path: string | null, body: string) =>
        t.repo.createComment({
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
      const reply = await t.repo.createComment({
        orgId: org.id,
        sessionId: session.id,
        threadId: a.id,
        anchor: null,
        path: 'src/a.ts',
        author: ANN,
        body: 'reply',
      });
      expect((await t.repo.listComments(org.id, session.id, undefined)).map((c) => c.id)).toEqual([
        a.id,
        general.id,
        reply.id,
      ]);
      expect((await t.repo.listComments(org.id, session.id, 'src/a.ts')).map((c) => c.body)).toEqual([
        'first',
        'reply',
      ]);

      const b = await t.f.org();
      expect(await t.repo.listComments(b.id, session.id, undefined)).toEqual([]);
      expect(await t.repo.findComment(b.id, session.id, a.id)).toBeNull();
      expect((await t.repo.findComment(org.id, session.id, a.id))?.author).toEqual(ANN);

      const resolved = await t.repo.setResolved(org.id, a.id, ANN);
      expect(resolved.resolvedBy).toEqual(ANN);
      expect(resolved.resolvedAt).toBeInstanceOf(Date);
      expect(await t.repo.setResolved(org.id, a.id, null)).toMatchObject({ resolvedBy: null, resolvedAt: null });
      await expect(t.repo.setResolved(b.id, a.id, ANN)).rejects.toMatchObject({ code: 'P2025' });
    });
  });
});
