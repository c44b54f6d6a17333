import { factories, type Factories, startTestDatabase, type TestDatabase } from '../../../../../test/support/factories';
import { ApprovalsRepository } from './approvals.repository';

const ALICE = { id: '00000000-0000-4000-8000-00000000a11c', name: 'Alice' };

describe('ApprovalsRepository (real Postgres)', () => {
  let db: TestDatabase;
  let repo: ApprovalsRepository;
  let f: Factories;
  beforeAll(async () => {
    db = await startTestDatabase();
    repo = new ApprovalsRepository(db.prisma);
    f = factories(db.prisma);
  });
  afterAll(() => db?.close());

  it("lists a session's approvals oldest first and never another org's", async () => {
    const { org, session } = await f.seeded();
    const later = await f.approval(org.id, session.id, { createdAt: new Date(Date.UTC(2030, 0, 2)) });
    const earlier = await f.approval(org.id, session.id, { createdAt: new Date(Date.UTC(2030, 0, 1)) });
    const b = await f.seeded();
    await f.approval(b.org.id, b.session.id);
    expect((await repo.listForSession(org.id, session.id)).map((a) => a.approvalId)).toEqual([
      earlier.approvalId,
      later.approvalId,
    ]);
    expect(await repo.listForSession(org.id, b.session.id)).toEqual([]);
    expect(await repo.find(org.id, b.session.id, earlier.approvalId)).toBeNull();
    expect(await repo.find(org.id, session.id, 'missing')).toBeNull();
  });

  it('lists pending ones only, filtered by session, oldest first, up to the limit', async () => {
    const { org, owner, session } = await f.seeded();
    const other = await f.session(org.id, owner.id);
    const day = (d: number) => new Date(Date.UTC(2030, 0, d));
    const a1 = await f.approval(org.id, session.id, { createdAt: day(1) });
    await f.approval(org.id, session.id, { createdAt: day(2), status: 'approved' });
    const a3 = await f.approval(org.id, other.id, { createdAt: day(3) });
    const a4 = await f.approval(org.id, session.id, { createdAt: day(4) });
    const ids = (rows: { approvalId: string }[]) => rows.map((r) => r.approvalId);
    expect(ids(await repo.listPending(org.id, null, 10))).toEqual([a1.approvalId, a3.approvalId, a4.approvalId]);
    expect(ids(await repo.listPending(org.id, null, 2))).toEqual([a1.approvalId, a3.approvalId]);
    expect(ids(await repo.listPending(org.id, [session.id], 10))).toEqual([a1.approvalId, a4.approvalId]);
    expect(await repo.listPending(org.id, [], 10)).toEqual([]);
  });

  it('settles a pending approval once: the first decision wins, concurrent or not', async () => {
    const { org, session } = await f.seeded();
    const a = await f.approval(org.id, session.id);
    const [approve, deny] = await Promise.all([
      repo.decide(org.id, session.id, a.approvalId, 'approved', ALICE),
      repo.decide(org.id, session.id, a.approvalId, 'denied', ALICE),
    ]);
    expect([approve, deny].filter(Boolean)).toHaveLength(1);
    const stored = await repo.find(org.id, session.id, a.approvalId);
    expect(stored?.status).toBe((approve ?? deny)?.status);
    expect(stored?.decidedBy).toEqual(ALICE);
    expect(await repo.decide(org.id, session.id, a.approvalId, 'denied', ALICE)).toBeNull();
  });

  it("cannot settle another org's approval, nor one that does not exist", async () => {
    const a = await f.seeded();
    const b = await f.seeded();
    const approval = await f.approval(b.org.id, b.session.id);
    expect(await repo.decide(a.org.id, b.session.id, approval.approvalId, 'approved', ALICE)).toBeNull();
    expect((await repo.find(b.org.id, b.session.id, approval.approvalId))?.status).toBe('pending');
    expect(await repo.decide(a.org.id, a.session.id, 'missing', 'approved', ALICE)).toBeNull();
  });
});
