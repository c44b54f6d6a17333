import { useRepository } from '../../../../../test/support/factories';
import { ApprovalsRepository } from './approvals.repository';

const ALICE = { id: '00000000-0000-4000-8000-00000000a11c', name: 'Alice' };

describe('ApprovalsRepository (real Postgres)', () => {
  const t = useRepository((db) => new ApprovalsRepository(db.transactions));

  it("lists a session's approvals oldest first and never another org's", async () => {
    const { org, session } = await t.f.seeded();
    const later = await t.f.approval(org.id, session.id, { createdAt: new Date(Date.UTC(2030, 0, 2)) });
    const earlier = await t.f.approval(org.id, session.id, { createdAt: new Date(Date.UTC(2030, 0, 1)) });
    const b = await t.f.seeded();
    await t.f.approval(b.org.id, b.session.id);
    expect((await t.repo.listForSession(org.id, session.id)).map((a) => a.approvalId)).toEqual([
      earlier.approvalId,
      later.approvalId,
    ]);
    expect(await t.repo.listForSession(org.id, b.session.id)).toEqual([]);
    expect(await t.repo.find(org.id, b.session.id, earlier.approvalId)).toBeNull();
    expect(await t.repo.find(org.id, session.id, 'missing')).toBeNull();
  });

  it('lists pending ones only, filtered by session, oldest first, up to the limit', async () => {
    const { org, owner, session } = await t.f.seeded();
    const other = await t.f.session(org.id, owner.id);
    const day = (d: number) => new Date(Date.UTC(2030, 0, d));
    const a1 = await t.f.approval(org.id, session.id, { createdAt: day(1) });
    await t.f.approval(org.id, session.id, { createdAt: day(2), status: 'approved' });
    const a3 = await t.f.approval(org.id, other.id, { createdAt: day(3) });
    const a4 = await t.f.approval(org.id, session.id, { createdAt: day(4) });
    const ids = (rows: { approvalId: string }[]) => rows.map((r) => r.approvalId);
    expect(ids(await t.repo.listPending(org.id, null, 10))).toEqual([a1.approvalId, a3.approvalId, a4.approvalId]);
    expect(ids(await t.repo.listPending(org.id, null, 2))).toEqual([a1.approvalId, a3.approvalId]);
    expect(ids(await t.repo.listPending(org.id, [session.id], 10))).toEqual([a1.approvalId, a4.approvalId]);
    expect(await t.repo.listPending(org.id, [], 10)).toEqual([]);
  });

  it('settles a pending approval once: the first decision wins, concurrent or not', async () => {
    const { org, session } = await t.f.seeded();
    const a = await t.f.approval(org.id, session.id);
    const [approve, deny] = await Promise.all([
      t.repo.decide(org.id, session.id, a.approvalId, 'approved', ALICE),
      t.repo.decide(org.id, session.id, a.approvalId, 'denied', ALICE),
    ]);
    expect([approve, deny].filter(Boolean)).toHaveLength(1);
    const stored = await t.repo.find(org.id, session.id, a.approvalId);
    expect(stored?.status).toBe((approve ?? deny)?.status);
    expect(stored?.decidedBy).toEqual(ALICE);
    expect(await t.repo.decide(org.id, session.id, a.approvalId, 'denied', ALICE)).toBeNull();
  });

  it("cannot settle another org's approval, nor one that does not exist", async () => {
    const a = await t.f.seeded();
    const b = await t.f.seeded();
    const approval = await t.f.approval(b.org.id, b.session.id);
    expect(await t.repo.decide(a.org.id, b.session.id, approval.approvalId, 'approved', ALICE)).toBeNull();
    expect((await t.repo.find(b.org.id, b.session.id, approval.approvalId))?.status).toBe('pending');
    expect(await t.repo.decide(a.org.id, a.session.id, 'missing', 'approved', ALICE)).toBeNull();
  });
});
