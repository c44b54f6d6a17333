import {
  factories,
  type Factories,
  hash,
  startTestDatabase,
  type TestDatabase,
} from '../../../../../test/support/factories';
import { AccessRepository } from './access.repository';

describe('AccessRepository (real Postgres)', () => {
  let db: TestDatabase;
  let repo: AccessRepository;
  let f: Factories;
  beforeAll(async () => {
    db = await startTestDatabase();
    repo = new AccessRepository(db.prisma);
    f = factories(db.prisma);
  });
  afterAll(() => db?.close());

  const grant = (data: { orgId: string; sessionId: string; userId?: string; createdAt?: Date; revokedAt?: Date }) =>
    db.prisma.sessionGrant.create({ data: { role: 'viewer', ...data } });

  it("finds a session's owner in its org only", async () => {
    const a = await f.seeded();
    const b = await f.seeded();
    expect(await repo.findSessionOwner(a.org.id, a.session.id)).toEqual({ id: a.session.id, ownerId: a.owner.id });
    expect(await repo.findSessionOwner(a.org.id, b.session.id)).toBeNull();
  });

  it("returns a member's most recent live grant, and the sessions granted to them, never another org's", async () => {
    const { org, owner, session } = await f.seeded();
    const viewer = await f.member(org.id);
    const s2 = await f.session(org.id, owner.id);
    await grant({ orgId: org.id, sessionId: session.id, userId: viewer.id, createdAt: new Date(Date.UTC(2030, 0, 1)) });
    const newest = await grant({
      orgId: org.id,
      sessionId: session.id,
      userId: viewer.id,
      createdAt: new Date(Date.UTC(2030, 0, 2)),
    });
    await grant({ orgId: org.id, sessionId: s2.id, userId: viewer.id, revokedAt: new Date() });
    const b = await f.seeded();
    await grant({ orgId: b.org.id, sessionId: b.session.id, userId: viewer.id });

    expect((await repo.findUserGrant(org.id, session.id, viewer.id))?.id).toBe(newest.id);
    expect(await repo.findUserGrant(org.id, s2.id, viewer.id)).toBeNull();
    expect(await repo.findUserGrant(org.id, b.session.id, viewer.id)).toBeNull();
    expect(await repo.grantedSessionIds(org.id, viewer.id)).toEqual([session.id, session.id]);
    expect(await repo.grantedSessionIds(b.org.id, viewer.id)).toEqual([b.session.id]);
  });

  it("finds a guest's live grant with its link, and nothing for a revoked or unknown credential", async () => {
    const { org, session } = await f.seeded();
    const link = await db.prisma.sessionLink.create({
      data: { orgId: org.id, sessionId: session.id, role: 'viewer', tokenHash: hash() },
    });
    const live = hash();
    const revoked = hash();
    await db.prisma.sessionGrant.create({
      data: { orgId: org.id, sessionId: session.id, role: 'viewer', credentialHash: live, linkId: link.id },
    });
    await db.prisma.sessionGrant.create({
      data: {
        orgId: org.id,
        sessionId: session.id,
        role: 'viewer',
        credentialHash: revoked,
        linkId: link.id,
        revokedAt: new Date(),
      },
    });
    const found = await repo.findGuestGrant(live);
    expect(found?.link.id).toBe(link.id);
    expect(found?.grant.sessionId).toBe(session.id);
    expect(await repo.findGuestGrant(revoked)).toBeNull();
    expect(await repo.findGuestGrant(hash())).toBeNull();
  });
});
