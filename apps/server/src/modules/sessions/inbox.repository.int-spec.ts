import type { InboxInput } from '@yoke/protocol';
import { useRepository } from '../../../../../test/support/factories';
import { InboxRepository } from './inbox.repository';

describe('InboxRepository (real Postgres)', () => {
  const t = useRepository((db) => new InboxRepository(db.transactions));

  describe('hand-over to the runner', () => {
    it('adds an inbox entry once per key and hands the undelivered ones to the runner in order', async () => {
      const { org, runner, session } = await t.f.seeded();
      const first = await t.repo.add(org.id, session.id, { kind: 'prompt', text: 'one' } as never, 'p1');
      const again = await t.repo.add(org.id, session.id, { kind: 'prompt', text: 'changed' } as never, 'p1');
      expect(again.id).toBe(first.id);
      expect(again.input).toEqual({ kind: 'prompt', text: 'one' });
      const second = await t.repo.add(org.id, session.id, { kind: 'prompt', text: 'two' } as never, 'p2');
      const elsewhere = await t.f.seeded();
      await t.repo.add(elsewhere.org.id, elsewhere.session.id, { kind: 'cancel' } as never, 'c1');

      const pending = await t.repo.pendingForRunner(runner.id);
      expect(pending.map((e) => e.id)).toEqual([first.id, second.id]);
      // The row `add` returns (its own statement) is the row as Prisma reads it, field for field and type for type.
      expect([first, again, second]).toEqual([pending[0], pending[0], pending[1]]);
      expect(typeof first.position).toBe('bigint');
      expect(first.createdAt).toBeInstanceOf(Date);
      await t.repo.markDelivered(first.id);
      expect((await t.repo.pendingForRunner(runner.id)).map((e) => e.id)).toEqual([second.id]);
    });
  });

  describe('queued prompts: a hand-over and a withdrawal never both happen', () => {
    const message = (text: string): InboxInput => ({
      kind: 'message',
      content: [{ type: 'text', text }],
      actor: { id: 'u-1', name: 'Ann' },
    });

    it('lists only undelivered messages of the session, oldest first', async () => {
      const { org, session } = await t.f.seeded();
      const a = await t.repo.add(org.id, session.id, message('one'), 'm1');
      await t.repo.add(org.id, session.id, { kind: 'cancel', actor: { id: 'u-1', name: 'Ann' } }, 'c1');
      const b = await t.repo.add(org.id, session.id, message('two'), 'm2');
      const c = await t.repo.add(org.id, session.id, message('three'), 'm3');
      await t.repo.markDelivered(c.id);
      const elsewhere = await t.f.seeded();
      await t.repo.add(elsewhere.org.id, elsewhere.session.id, message('theirs'), 'm1');
      expect((await t.repo.queuedMessages(org.id, session.id)).map((e) => e.id)).toEqual([a.id, b.id]);
      expect(await t.repo.queuedMessages(elsewhere.org.id, session.id)).toEqual([]);
    });

    it('withdraws an unclaimed message once, only in its own session and org', async () => {
      const { org, session } = await t.f.seeded();
      const m = await t.repo.add(org.id, session.id, message('one'), 'm1');
      const other = await t.f.seeded();
      expect(await t.repo.withdrawMessage(other.org.id, session.id, m.id)).toBe(false);
      expect(await t.repo.withdrawMessage(org.id, other.session.id, m.id)).toBe(false);
      expect(await t.repo.withdrawMessage(org.id, session.id, m.id)).toBe(true);
      expect(await t.repo.withdrawMessage(org.id, session.id, m.id)).toBe(false);
      expect(await t.repo.findMessage(org.id, session.id, m.id)).toBeNull();
      // Withdrawn: a hand-over that was about to start sends nothing.
      expect(await t.repo.claimDelivery(m.id)).toBe(false);
    });

    it('refuses to withdraw while a hand-over holds its claim or once delivered; a released claim allows it', async () => {
      const { org, session } = await t.f.seeded();
      const m = await t.repo.add(org.id, session.id, message('one'), 'm1');
      expect(await t.repo.claimDelivery(m.id)).toBe(true);
      expect(await t.repo.claimDelivery(m.id)).toBe(false);
      expect(await t.repo.withdrawMessage(org.id, session.id, m.id)).toBe(false);
      await t.repo.releaseDelivery(m.id);
      expect(await t.repo.withdrawMessage(org.id, session.id, m.id)).toBe(true);

      const d = await t.repo.add(org.id, session.id, message('two'), 'm2');
      expect(await t.repo.claimDelivery(d.id)).toBe(true);
      expect(await t.repo.markDelivered(d.id)).toBe(true);
      expect(await t.repo.markDelivered(d.id)).toBe(false);
      expect(await t.repo.withdrawMessage(org.id, session.id, d.id)).toBe(false);
      expect((await t.repo.findMessage(org.id, session.id, d.id))?.deliveredAt).toBeInstanceOf(Date);
      expect(await t.repo.isDelivered(d.id)).toBe(true);
    });

    it('a claim left by a replica that died mid-send lapses after its lease', async () => {
      const { org, session } = await t.f.seeded();
      const m = await t.repo.add(org.id, session.id, message('one'), 'm1');
      expect(await t.repo.claimDelivery(m.id)).toBe(true);
      await t.db.prisma
        .$executeRaw`UPDATE inbox_entries SET claimed_at = now() - interval '31 seconds' WHERE id = ${m.id}::uuid`;
      expect(await t.repo.claimDelivery(m.id)).toBe(true);
      await t.db.prisma
        .$executeRaw`UPDATE inbox_entries SET claimed_at = now() - interval '31 seconds' WHERE id = ${m.id}::uuid`;
      expect(await t.repo.withdrawMessage(org.id, session.id, m.id)).toBe(true);
    });

    it('of a withdrawal and a hand-over racing for one message, exactly one wins', async () => {
      const { org, session } = await t.f.seeded();
      for (let i = 0; i < 20; i++) {
        const m = await t.repo.add(org.id, session.id, message(`m${i}`), `k${i}`);
        const [withdrawn, claimed] = await Promise.all([
          t.repo.withdrawMessage(org.id, session.id, m.id),
          t.repo.claimDelivery(m.id),
        ]);
        expect([withdrawn, claimed].filter(Boolean)).toHaveLength(1);
      }
    });
  });
});
