import { hash, useRepository } from '../../../../../test/support/factories';
import { AuthRepository } from './auth.repository';

const MIN = 60_000;

describe('AuthRepository (real Postgres)', () => {
  const t = useRepository((db) => new AuthRepository(db.transactions));

  describe('API tokens', () => {
    it('finds a live token with its user and role, touching last use at most once a minute', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const tokenHash = hash();
      await t.repo.createToken({ orgId: org.id, userId: owner.id, name: 'cli', tokenHash });
      const now = new Date();
      const found = await t.repo.findActiveToken(tokenHash, now);
      expect(found).toMatchObject({ role: 'owner', user: { id: owner.id } });
      const stored = await t.db.prisma.apiToken.findUnique({ where: { tokenHash } });
      expect(stored?.lastUsedAt).toEqual(now);
      await t.repo.findActiveToken(tokenHash, new Date(now.getTime() + 1000));
      expect((await t.db.prisma.apiToken.findUnique({ where: { tokenHash } }))?.lastUsedAt).toEqual(now);
    });

    it('finds nothing for a revoked, expired or unknown token, or once its holder left the org', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const leaver = await t.f.member(org.id);
      const now = new Date();
      const expired = hash();
      const revoked = hash();
      const left = hash();
      await t.repo.createToken({ orgId: org.id, userId: owner.id, name: 'e', tokenHash: expired, expiresAt: now });
      const r = await t.repo.createToken({ orgId: org.id, userId: owner.id, name: 'r', tokenHash: revoked });
      await t.repo.revokeTokenById(org.id, r.id, now);
      await t.repo.createToken({ orgId: org.id, userId: leaver.id, name: 'l', tokenHash: left });
      await t.db.prisma.membership.delete({ where: { orgId_userId: { orgId: org.id, userId: leaver.id } } });
      for (const h of [expired, revoked, left, hash()]) expect(await t.repo.findActiveToken(h, now)).toBeNull();
    });

    it('refuses a second token with the same hash', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const data = { orgId: org.id, userId: owner.id, name: 'x', tokenHash: hash() };
      await t.repo.createToken(data);
      await expect(t.repo.createToken(data)).rejects.toMatchObject({ code: 'P2002' });
    });

    it("lists a user's live tokens in the org, newest first; revokes only their own", async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const other = await t.f.orgWithOwner();
      await t.db.prisma.membership.create({ data: { orgId: other.org.id, userId: owner.id, role: 'member' } });
      const now = new Date();
      const mk = (orgId: string, name: string, extra: { expiresAt?: Date; createdAt?: Date } = {}) =>
        t.f.apiToken(orgId, owner.id, { name, ...extra });
      const older = await mk(org.id, 'older', { createdAt: new Date(now.getTime() - 2 * MIN) });
      const newer = await mk(org.id, 'newer', { createdAt: new Date(now.getTime() - MIN) });
      await mk(org.id, 'expired', { expiresAt: new Date(now.getTime() - 1) });
      const elsewhere = await mk(other.org.id, 'elsewhere');
      expect((await t.repo.listTokens(org.id, owner.id, now)).map((token) => token.id)).toEqual([newer.id, older.id]);

      expect(await t.repo.revokeToken(org.id, owner.id, elsewhere.id, now)).toBe(false);
      expect(await t.repo.revokeToken(org.id, other.owner.id, older.id, now)).toBe(false);
      expect(await t.repo.revokeToken(org.id, owner.id, older.id, now)).toBe(true);
      expect(await t.repo.revokeToken(org.id, owner.id, older.id, now)).toBe(false);
      expect((await t.repo.listTokens(org.id, owner.id, now)).map((token) => token.id)).toEqual([newer.id]);
      expect((await t.repo.listTokens(other.org.id, owner.id, now)).map((token) => token.id)).toEqual([elsewhere.id]);
    });
  });

  describe('browser sessions', () => {
    it('finds a live one with its role; not once revoked (in its own org only) or expired', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const now = new Date();
      const tokenHash = hash();
      const ws = await t.repo.createWebSession({
        orgId: org.id,
        userId: owner.id,
        tokenHash,
        expiresAt: new Date(now.getTime() + MIN),
      });
      expect(await t.repo.findActiveWebSession(tokenHash, now)).toMatchObject({
        role: 'owner',
        session: { id: ws.id },
      });
      expect(await t.repo.findActiveWebSession(tokenHash, new Date(now.getTime() + MIN))).toBeNull();

      await t.repo.revokeWebSession((await t.f.org()).id, ws.id, now);
      expect(await t.repo.findActiveWebSession(tokenHash, now)).not.toBeNull();
      await t.repo.revokeWebSession(org.id, ws.id, now);
      expect(await t.repo.findActiveWebSession(tokenHash, now)).toBeNull();
    });
  });

  describe('device authorizations', () => {
    const device = (expiresAt = new Date(Date.now() + 10 * MIN)) =>
      t.repo.createDeviceAuthorization({
        deviceCodeHash: hash(),
        userCode: hash().slice(0, 9).toUpperCase(),
        clientName: 'yoke cli',
        scope: 'write',
        intervalSeconds: 5,
        expiresAt,
      });

    it('finds a request by either code, and null for unknown codes', async () => {
      const d = await device();
      expect((await t.repo.findDeviceByCode(d.deviceCodeHash))?.id).toBe(d.id);
      expect((await t.repo.findDeviceByUserCode(d.userCode))?.id).toBe(d.id);
      expect(await t.repo.findDeviceByCode(hash())).toBeNull();
      expect(await t.repo.findDeviceByUserCode('NOPE')).toBeNull();
    });

    it('counts one of two polls that raced on the same previous poll time', async () => {
      const d = await device();
      const now = new Date();
      const polls = await Promise.all([
        t.repo.touchDevicePoll(d.id, null, now),
        t.repo.touchDevicePoll(d.id, null, now),
      ]);
      expect(polls.filter(Boolean)).toHaveLength(1);
      expect(await t.repo.touchDevicePoll(d.id, now, new Date(now.getTime() + 5000))).toBe(true);
    });

    it('is decided once, while pending and unexpired, and claimed once', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const d = await device();
      const now = new Date();
      expect(await t.repo.claimDevice(d.id)).toBe(false); // not approved yet
      expect(await t.repo.decideDevice(d.id, { orgId: org.id, userId: owner.id, approve: true }, now)).toBe(true);
      expect(await t.repo.decideDevice(d.id, { orgId: org.id, userId: owner.id, approve: false }, now)).toBe(false);
      const claims = await Promise.all([t.repo.claimDevice(d.id), t.repo.claimDevice(d.id)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await t.repo.findDeviceByCode(d.deviceCodeHash))?.status).toBe('issued');

      const expired = await device(new Date(now.getTime() - 1));
      expect(await t.repo.decideDevice(expired.id, { orgId: org.id, userId: owner.id, approve: true }, now)).toBe(
        false,
      );
    });

    it('prunes only requests that expired before the cut-off', async () => {
      const now = Date.now();
      const old = await device(new Date(now - 2 * MIN));
      const fresh = await device(new Date(now + MIN));
      await t.repo.pruneDeviceAuthorizations(new Date(now - MIN));
      expect(await t.repo.findDeviceByCode(old.deviceCodeHash)).toBeNull();
      expect(await t.repo.findDeviceByCode(fresh.deviceCodeHash)).not.toBeNull();
    });
  });
});
