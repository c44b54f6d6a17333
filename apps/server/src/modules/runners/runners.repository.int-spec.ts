import { hash, useRepository } from '../../../../../test/support/factories';
import { RunnersRepository } from './runners.repository';

const HOUR = 3_600_000;

describe('RunnersRepository (real Postgres)', () => {
  const t = useRepository((db) => new RunnersRepository(db.transactions));

  const enrolment = async (expiresAt = new Date(Date.now() + HOUR)) => {
    const { org, owner } = await t.f.orgWithOwner();
    const tokenHash = hash();
    await t.repo.createEnrolment({ orgId: org.id, createdById: owner.id, tokenHash, expiresAt });
    return { org, tokenHash };
  };

  it('enrols one runner per token, even when two use it at once', async () => {
    const { org, tokenHash } = await enrolment();
    const now = new Date();
    const results = await Promise.all(
      ['a', 'b'].map((name) => t.repo.enrolWithToken(tokenHash, now, { name, credentialHash: hash() })),
    );
    const created = results.filter((r) => r !== null);
    expect(created).toHaveLength(1);
    expect(created[0]?.orgId).toBe(org.id);
    expect(await t.repo.enrolWithToken(tokenHash, now, { name: 'c', credentialHash: hash() })).toBeNull();
    expect((await t.repo.list(org.id)).map((r) => r.id)).toEqual([created[0]?.id]);
  });

  it('refuses an expired or unknown enrolment token', async () => {
    const { tokenHash } = await enrolment(new Date(Date.now() - 1000));
    expect(await t.repo.enrolWithToken(tokenHash, new Date(), { name: 'x', credentialHash: hash() })).toBeNull();
    expect(await t.repo.enrolWithToken(hash(), new Date(), { name: 'x', credentialHash: hash() })).toBeNull();
  });

  it('refuses a second enrolment token with the same hash (unique)', async () => {
    const { org, owner } = await t.f.orgWithOwner();
    const tokenHash = hash();
    const data = { orgId: org.id, createdById: owner.id, tokenHash, expiresAt: new Date(Date.now() + HOUR) };
    await t.repo.createEnrolment(data);
    await expect(t.repo.createEnrolment(data)).rejects.toMatchObject({ code: 'P2002' });
  });

  it('accepts the previous credential after a rotation until the new one is first used', async () => {
    const org = await t.f.org();
    const old = hash();
    const runner = await t.f.runner(org.id, { credentialHash: old });
    const next = hash();
    expect((await t.repo.rotateCredential(org.id, runner.id, next, new Date()))?.credentialHash).toBe(next);
    expect((await t.repo.findByCredentialHash(old))?.id).toBe(runner.id);
    expect((await t.repo.findByCredentialHash(next))?.id).toBe(runner.id); // first use of the new one
    expect(await t.repo.findByCredentialHash(old)).toBeNull();
    expect(await t.repo.findByCredentialHash(hash())).toBeNull();
  });

  it("cannot rotate, revoke or read another org's runner; revoked runners drop out of reads", async () => {
    const a = await t.f.org();
    const b = await t.f.org();
    const theirs = await t.f.runner(b.id);
    expect(await t.repo.rotateCredential(a.id, theirs.id, hash(), new Date())).toBeNull();
    expect(await t.repo.revoke(a.id, theirs.id, new Date())).toBe(false);
    expect(await t.repo.findById(a.id, theirs.id)).toBeNull();
    expect((await t.repo.findById(b.id, theirs.id))?.id).toBe(theirs.id);

    expect(await t.repo.revoke(b.id, theirs.id, new Date())).toBe(true);
    expect(await t.repo.revoke(b.id, theirs.id, new Date())).toBe(false);
    expect(await t.repo.findById(b.id, theirs.id)).toBeNull();
    expect(await t.repo.list(b.id)).toEqual([]);
    expect(await t.repo.rotateCredential(b.id, theirs.id, hash(), new Date())).toBeNull();
  });

  it('lists live runners oldest first and picks the most recently seen online one', async () => {
    const org = await t.f.org();
    const now = Date.now();
    const first = await t.f.runner(org.id, { createdAt: new Date(now - 3 * HOUR) });
    const second = await t.f.runner(org.id, { createdAt: new Date(now - 2 * HOUR) });
    const stale = await t.f.runner(org.id, { createdAt: new Date(now - HOUR) });
    expect((await t.repo.list(org.id)).map((r) => r.id)).toEqual([first.id, second.id, stale.id]);

    const since = new Date(now - 60_000);
    expect(await t.repo.findAvailable(org.id, since)).toBeNull();
    await t.repo.setOnline(first.id, true, new Date(now - 30_000));
    await t.repo.touch(second.id, new Date(now - 10_000));
    await t.repo.setOnline(stale.id, true, new Date(now - 10 * 60_000));
    expect((await t.repo.findAvailable(org.id, since))?.id).toBe(second.id);
    await t.repo.setOnline(second.id, false, new Date(now));
    expect((await t.repo.findAvailable(org.id, since))?.id).toBe(first.id);
    expect(await t.repo.findAvailable((await t.f.org()).id, since)).toBeNull();
  });
});
