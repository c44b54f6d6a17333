import { factories, type Factories, startTestDatabase, type TestDatabase } from '../../../../../test/support/factories';
import { PolicySetsRepository } from './policy-sets.repository';

const ALICE = { id: 'alice', name: 'Alice' };

describe('PolicySetsRepository (real Postgres)', () => {
  let db: TestDatabase;
  let repo: PolicySetsRepository;
  let f: Factories;
  beforeAll(async () => {
    db = await startTestDatabase();
    repo = new PolicySetsRepository(db.prisma);
    f = factories(db.prisma);
  });
  afterAll(() => db?.close());

  it('finds nothing for an org without a set, then the versions it writes, per org', async () => {
    const a = await f.org();
    const b = await f.org();
    expect(await repo.find(a.id)).toBeNull();
    expect(await repo.write(a.id, 'policies: []\n', ALICE, undefined)).toMatchObject({ version: 1 });
    expect(await repo.write(a.id, 'policies: [x]\n', ALICE, undefined)).toMatchObject({ version: 2 });
    expect(await repo.find(a.id)).toMatchObject({ yaml: 'policies: [x]\n', version: 2, updatedBy: ALICE });
    expect(await repo.find(b.id)).toBeNull();
  });

  it('writes with an expected version only while it still matches (0 = no set yet)', async () => {
    const org = await f.org();
    expect(await repo.write(org.id, 'a', ALICE, 1)).toBeNull();
    expect(await repo.write(org.id, 'a', ALICE, 0)).toMatchObject({ version: 1 });
    expect(await repo.write(org.id, 'stale', ALICE, 0)).toBeNull();
    expect((await repo.find(org.id))?.yaml).toBe('a');
  });

  it('lets exactly one of two concurrent writers at the same version win', async () => {
    const org = await f.org();
    await repo.write(org.id, 'v1', ALICE, 0);
    const results = await Promise.all([repo.write(org.id, 'left', ALICE, 1), repo.write(org.id, 'right', ALICE, 1)]);
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(await repo.find(org.id)).toMatchObject({ version: 2, yaml: winners[0]?.yaml });
  });
});
