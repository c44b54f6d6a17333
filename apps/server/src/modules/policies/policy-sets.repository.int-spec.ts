import { useRepository } from '../../../../../test/support/factories';
import { PolicySetsRepository } from './policy-sets.repository';

const ALICE = { id: 'alice', name: 'Alice' };

describe('PolicySetsRepository (real Postgres)', () => {
  const t = useRepository((db) => new PolicySetsRepository(db.transactions));

  it('finds nothing for an org without a set, then the versions it writes, per org', async () => {
    const a = await t.f.org();
    const b = await t.f.org();
    expect(await t.repo.find(a.id)).toBeNull();
    expect(await t.repo.write(a.id, 'policies: []\n', ALICE, undefined)).toMatchObject({ version: 1 });
    expect(await t.repo.write(a.id, 'policies: [x]\n', ALICE, undefined)).toMatchObject({ version: 2 });
    expect(await t.repo.find(a.id)).toMatchObject({ yaml: 'policies: [x]\n', version: 2, updatedBy: ALICE });
    expect(await t.repo.find(b.id)).toBeNull();
  });

  it('writes with an expected version only while it still matches (0 = no set yet)', async () => {
    const org = await t.f.org();
    expect(await t.repo.write(org.id, 'a', ALICE, 1)).toBeNull();
    expect(await t.repo.write(org.id, 'a', ALICE, 0)).toMatchObject({ version: 1 });
    expect(await t.repo.write(org.id, 'stale', ALICE, 0)).toBeNull();
    expect((await t.repo.find(org.id))?.yaml).toBe('a');
  });

  it('lets exactly one of two concurrent writers at the same version win', async () => {
    const org = await t.f.org();
    await t.repo.write(org.id, 'v1', ALICE, 0);
    const results = await Promise.all([
      t.repo.write(org.id, 'left', ALICE, 1),
      t.repo.write(org.id, 'right', ALICE, 1),
    ]);
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(await t.repo.find(org.id)).toMatchObject({ version: 2, yaml: winners[0]?.yaml });
  });
});
