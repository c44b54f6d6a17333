import { hash, useRepository } from '../../../../../test/support/factories';
import { AccessRepository } from './access.repository';

describe('AccessRepository (real Postgres)', () => {
  const t = useRepository((db) => new AccessRepository(db.transactions));

  const grant = (data: { orgId: string; sessionId: string; userId?: string; createdAt?: Date; revokedAt?: Date }) =>
    t.db.prisma.sessionGrant.create({ data: { role: 'viewer', ...data } });

  it("finds a session's owner in its org only", async () => {
    const a = await t.f.seeded();
    const b = await t.f.seeded();
    expect(await t.repo.findSessionOwner(a.org.id, a.session.id)).toEqual({ id: a.session.id, ownerId: a.owner.id });
    expect(await t.repo.findSessionOwner(a.org.id, b.session.id)).toBeNull();
  });

  it("returns a member's most recent live grant, and the sessions granted to them, never another org's", async () => {
    const { org, owner, session } = await t.f.seeded();
    const viewer = await t.f.member(org.id);
    const s2 = await t.f.session(org.id, owner.id);
    await grant({ orgId: org.id, sessionId: session.id, userId: viewer.id, createdAt: new Date(Date.UTC(2030, 0, 1)) });
    const newest = await grant({
      orgId: org.id,
      sessionId: session.id,
      userId: viewer.id,
      createdAt: new Date(Date.UTC(2030, 0, 2)),
    });
    await grant({ orgId: org.id, sessionId: s2.id, userId: viewer.id, revokedAt: new Date() });
    const b = await t.f.seeded();
    await grant({ orgId: b.org.id, sessionId: b.session.id, userId: viewer.id });

    expect((await t.repo.findUserGrant(org.id, session.id, viewer.id))?.id).toBe(newest.id);
    expect(await t.repo.findUserGrant(org.id, s2.id, viewer.id)).toBeNull();
    expect(await t.repo.findUserGrant(org.id, b.session.id, viewer.id)).toBeNull();
    expect(await t.repo.grantedSessionIds(org.id, viewer.id)).toEqual([session.id, session.id]);
    expect(await t.repo.grantedSessionIds(b.org.id, viewer.id)).toEqual([b.session.id]);
  });

  it("finds a guest's live grant with its link, and nothing for a revoked or unknown credential", async () => {
    const { org, session } = await t.f.seeded();
    const link = await t.db.prisma.sessionLink.create({
      data: { orgId: org.id, sessionId: session.id, role: 'viewer', tokenHash: hash() },
    });
    const live = hash();
    const revoked = hash();
    await t.db.prisma.sessionGrant.create({
      data: { orgId: org.id, sessionId: session.id, role: 'viewer', credentialHash: live, linkId: link.id },
    });
    await t.db.prisma.sessionGrant.create({
      data: {
        orgId: org.id,
        sessionId: session.id,
        role: 'viewer',
        credentialHash: revoked,
        linkId: link.id,
        revokedAt: new Date(),
      },
    });
    const found = await t.repo.findGuestGrant(live);
    expect(found?.link.id).toBe(link.id);
    expect(found?.grant.sessionId).toBe(session.id);
    expect(await t.repo.findGuestGrant(revoked)).toBeNull();
    expect(await t.repo.findGuestGrant(hash())).toBeNull();
  });
});
