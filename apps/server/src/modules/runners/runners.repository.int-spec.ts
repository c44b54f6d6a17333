import {
  factories,
  type Factories,
  hash,
  startTestDatabase,
  type TestDatabase,
} from '../../../../../test/support/factories';
import { RunnersRepository } from './runners.repository';

const HOUR = 3_600_000;

describe('RunnersRepository (real Postgres)', () => {
  let db: TestDatabase;
  let repo: RunnersRepository;
  let f: Factories;
  beforeAll(async () => {
    db = await startTestDatabase();
    repo = new RunnersRepository(db.prisma);
    f = factories(db.prisma);
  });
  afterAll(() => db?.close());

  const enrolment = async (expiresAt = new Date(Date.now() + HOUR)) => {
    const { org, owner } = await f.orgWithOwner();
    const tokenHash = hash();
    await repo.createEnrolment({ orgId: org.id, createdById: owner.id, tokenHash, expiresAt });
    return { org, tokenHash };
  };

  it('enrols one runner per token, even when two use it at once', async () => {
    const { org, tokenHash } = await enrolment();
    const now = new Date();
    const results = await Promise.all(
      ['a', 'b'].map((name) => repo.enrolWithToken(tokenHash, now, { name, credentialHash: hash() })),
    );
    const created = results.filter((r) => r !== null);
    expect(created).toHaveLength(1);
    expect(created[0]?.orgId).toBe(org.id);
    expect(await repo.enrolWithToken(tokenHash, now, { name: 'c', credentialHash: hash() })).toBeNull();
    expect((await repo.list(org.id)).map((r) => r.id)).toEqual([created[0]?.id]);
  });

  it('refuses an expired or unknown enrolment token', async () => {
    const { tokenHash } = await enrolment(new Date(Date.now() - 1000));
    expect(await repo.enrolWithToken(tokenHash, new Date(), { name: 'x', credentialHash: hash() })).toBeNull();
    expect(await repo.enrolWithToken(hash(), new Date(), { name: 'x', credentialHash: hash() })).toBeNull();
  });

  it('refuses a second enrolment token with the same hash (unique)', async () => {
    const { org, owner } = await f.orgWithOwner();
    const tokenHash = hash();
    const data = { orgId: org.id, createdById: owner.id, tokenHash, expiresAt: new Date(Date.now() + HOUR) };
    await repo.createEnrolment(data);
    await expect(repo.createEnrolment(data)).rejects.toMatchObject({ code: 'P2002' });
  });

  it('accepts the previous credential after a rotation until the new one is first used', async () => {
    const org = await f.org();
    const old = hash();
    const runner = await f.runner(org.id, { credentialHash: old });
    const next = hash();
    expect((await repo.rotateCredential(org.id, runner.id, next, new Date()))?.credentialHash).toBe(next);
    expect((await repo.findByCredentialHash(old))?.id).toBe(runner.id);
    expect((await repo.findByCredentialHash(next))?.id).toBe(runner.id); // first use of the new one
    expect(await repo.findByCredentialHash(old)).toBeNull();
    expect(await repo.findByCredentialHash(hash())).toBeNull();
  });

  it("cannot rotate, revoke or read another org's runner; revoked runners drop out of reads", async () => {
    const a = await f.org();
    const b = await f.org();
    const theirs = await f.runner(b.id);
    expect(await repo.rotateCredential(a.id, theirs.id, hash(), new Date())).toBeNull();
    expect(await repo.revoke(a.id, theirs.id, new Date())).toBe(false);
    expect(await repo.findById(a.id, theirs.id)).toBeNull();
    expect((await repo.findById(b.id, theirs.id))?.id).toBe(theirs.id);

    expect(await repo.revoke(b.id, theirs.id, new Date())).toBe(true);
    expect(await repo.revoke(b.id, theirs.id, new Date())).toBe(false);
    expect(await repo.findById(b.id, theirs.id)).toBeNull();
    expect(await repo.list(b.id)).toEqual([]);
    expect(await repo.rotateCredential(b.id, theirs.id, hash(), new Date())).toBeNull();
  });

  it('lists live runners oldest first and picks the most recently seen online one', async () => {
    const org = await f.org();
    const now = Date.now();
    const first = await f.runner(org.id, { createdAt: new Date(now - 3 * HOUR) });
    const second = await f.runner(org.id, { createdAt: new Date(now - 2 * HOUR) });
    const stale = await f.runner(org.id, { createdAt: new Date(now - HOUR) });
    expect((await repo.list(org.id)).map((r) => r.id)).toEqual([first.id, second.id, stale.id]);

    const since = new Date(now - 60_000);
    expect(await repo.findAvailable(org.id, since)).toBeNull();
    await repo.setOnline(first.id, true, new Date(now - 30_000));
    await repo.touch(second.id, new Date(now - 10_000));
    await repo.setOnline(stale.id, true, new Date(now - 10 * 60_000));
    expect((await repo.findAvailable(org.id, since))?.id).toBe(second.id);
    await repo.setOnline(second.id, false, new Date(now));
    expect((await repo.findAvailable(org.id, since))?.id).toBe(first.id);
    expect(await repo.findAvailable((await f.org()).id, since)).toBeNull();
  });
});
