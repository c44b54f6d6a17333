import { hash, useRepository } from '../../../../../test/support/factories';
import { uniqueName } from '../../../../../test/support/env';
import { OrgsRepository } from './orgs.repository';

const DAY = 86_400_000;

describe('OrgsRepository (real Postgres)', () => {
  const t = useRepository((db) => new OrgsRepository(db.transactions));

  const slug = () => uniqueName('org').replace(/_/g, '-');
  const email = () => `${uniqueName('u')}@example.test`;

  describe('orgs and members', () => {
    it('creates an org with its owner once per slug and email', async () => {
      const before = await t.repo.countOrgs();
      const s = slug();
      const e = email();
      const first = await t.repo.ensureOrgWithOwner({ slug: s, name: 'Acme' }, { email: e, name: 'Ann' });
      const again = await t.repo.ensureOrgWithOwner({ slug: s, name: 'Other' }, { email: e, name: 'Other' });
      expect(first.role).toBe('owner');
      expect(again.org).toEqual(first.org);
      expect(again.user).toEqual(first.user);
      expect(await t.repo.countOrgs()).toBe(before + 1);
      expect((await t.repo.findMembership(s, e))?.org.id).toBe(first.org.id);
      expect(await t.repo.findMembership(s, email())).toBeNull();
      expect((await t.repo.findOrgBySlug(s))?.id).toBe(first.org.id);
      expect(await t.repo.findOrgBySlug(slug())).toBeNull();
    });

    it('creates an org for an existing user, and null when the slug is taken', async () => {
      const user = await t.f.user();
      const s = slug();
      const org = await t.repo.createOrg({ slug: s, name: 'New' }, user.id);
      expect(org).not.toBeNull();
      expect((await t.repo.findMember(org!.id, user.id))?.role).toBe('owner');
      expect(await t.repo.createOrg({ slug: s, name: 'Again' }, user.id)).toBeNull();
      expect((await t.repo.getOrg(org!.id)).slug).toBe(s);
    });

    it("lists an org's members oldest first, never another org's", async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const member = await t.f.member(org.id);
      const other = await t.f.orgWithOwner();
      expect((await t.repo.listMembers(org.id)).map((m) => m.user.id)).toEqual([owner.id, member.id]);
      expect(await t.repo.findMember(org.id, other.owner.id)).toBeNull();
      expect(await t.repo.countOwners(org.id)).toBe(1);
    });

    it('never leaves an org without an owner, by role change or removal', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      expect(await t.repo.setRole(org.id, owner.id, 'admin')).toBe('last_owner');
      expect(await t.repo.removeMember(org.id, owner.id, new Date())).toBe('last_owner');
      const second = await t.f.member(org.id);
      expect(await t.repo.setRole(org.id, second.id, 'owner')).toMatchObject({ role: 'owner' });
      expect(await t.repo.setRole(org.id, owner.id, 'member')).toMatchObject({ role: 'member' });
      expect(await t.repo.setRole(org.id, (await t.f.user()).id, 'admin')).toBeNull();
      expect(await t.repo.removeMember(org.id, (await t.f.user()).id, new Date())).toBeNull();
    });

    it('removing a member ends their tokens and browser sessions in that org only', async () => {
      const { org } = await t.f.orgWithOwner();
      const other = await t.f.org();
      const leaver = await t.f.member(org.id);
      await t.db.prisma.membership.create({ data: { orgId: other.id, userId: leaver.id, role: 'member' } });
      const here = await t.f.apiToken(org.id, leaver.id);
      const there = await t.f.apiToken(other.id, leaver.id);
      const ws = await t.db.prisma.webSession.create({
        data: { orgId: org.id, userId: leaver.id, tokenHash: hash(), expiresAt: new Date(Date.now() + DAY) },
      });
      const now = new Date();
      expect(await t.repo.removeMember(org.id, leaver.id, now)).toMatchObject({ userId: leaver.id });
      expect(await t.repo.findMember(org.id, leaver.id)).toBeNull();
      expect((await t.db.prisma.apiToken.findUnique({ where: { id: here.id } }))?.revokedAt).toEqual(now);
      expect((await t.db.prisma.webSession.findUnique({ where: { id: ws.id } }))?.revokedAt).toEqual(now);
      expect((await t.db.prisma.apiToken.findUnique({ where: { id: there.id } }))?.revokedAt).toBeNull();
    });
  });

  describe('invitations', () => {
    it('lists open ones newest first, finds the newest open one per email, revokes once, per org', async () => {
      const { org, owner } = await t.f.orgWithOwner();
      const other = await t.f.org();
      const now = Date.now();
      const invite = (orgId: string, to: string, createdAt: Date, expiresAt = new Date(now + DAY)) =>
        t.db.prisma.invitation.create({
          data: { orgId, email: to, role: 'member', invitedById: owner.id, expiresAt, createdAt },
        });
      const to = email();
      const older = await invite(org.id, to, new Date(now - 2000));
      const newer = await invite(org.id, to, new Date(now - 1000));
      await invite(org.id, email(), new Date(now - 500), new Date(now - 1)); // expired
      await invite(other.id, to, new Date(now));
      const at = new Date(now);
      expect((await t.repo.listInvitations(org.id, at)).map((i) => i.id)).toEqual([newer.id, older.id]);
      expect((await t.repo.findOpenInvitation(org.id, to, at))?.id).toBe(newer.id);

      expect(await t.repo.revokeInvitation(other.id, newer.id, at)).toBe(false);
      expect(await t.repo.revokeInvitation(org.id, newer.id, at)).toBe(true);
      expect(await t.repo.revokeInvitation(org.id, newer.id, at)).toBe(false);
      expect((await t.repo.findOpenInvitation(org.id, to, at))?.id).toBe(older.id);
      expect(await t.repo.findOpenInvitation(org.id, email(), at)).toBeNull();

      const created = await t.repo.createInvitation({
        orgId: org.id,
        email: to,
        role: 'admin',
        invitedById: owner.id,
        expiresAt: new Date(now + DAY),
      });
      expect((await t.repo.findOpenInvitation(org.id, to, at))?.id).toBe(created.id);
    });
  });

  describe('single sign-on', () => {
    it('keeps one configuration per org: upserted, found, deleted once', async () => {
      const org = await t.f.org();
      const other = await t.f.org();
      const sso = {
        issuer: 'https://idp.example',
        clientId: 'c',
        clientSecretEnc: 'enc',
        allowedDomains: ['example.test'],
        defaultRole: 'member' as const,
      };
      expect(await t.repo.findSso(org.id)).toBeNull();
      await t.repo.upsertSso(org.id, sso);
      await t.repo.upsertSso(org.id, { ...sso, clientId: 'c2' });
      expect(await t.repo.findSso(org.id)).toMatchObject({ clientId: 'c2', allowedDomains: ['example.test'] });
      expect(await t.repo.findSso(other.id)).toBeNull();
      expect(await t.repo.deleteSso(other.id)).toBe(false);
      expect(await t.repo.deleteSso(org.id)).toBe(true);
      expect(await t.repo.deleteSso(org.id)).toBe(false);
    });

    it('provisions a new identity only with a role to join as, and links it to the same user next time', async () => {
      const { org } = await t.f.orgWithOwner();
      const id = { issuer: 'https://idp.example', subject: uniqueName('sub'), email: email(), name: 'Sam' };
      const now = new Date();
      expect(await t.repo.provision(org.id, id, null, null, now)).toBeNull();
      const invitation = await t.db.prisma.invitation.create({
        data: { orgId: org.id, email: id.email, role: 'admin', expiresAt: new Date(now.getTime() + DAY) },
      });
      const first = await t.repo.provision(org.id, id, 'admin', invitation.id, now);
      expect(first).toMatchObject({ role: 'admin', user: { email: id.email } });
      expect((await t.db.prisma.invitation.findUnique({ where: { id: invitation.id } }))?.acceptedAt).toEqual(now);
      // Signing in again (even with an email the IdP changed) is the same user with their current role.
      const again = await t.repo.provision(org.id, { ...id, email: email() }, 'member', null, now);
      expect(again).toMatchObject({ role: 'admin', user: { id: first!.user.id } });
    });

    it('uses a sign-in state once, before it expires; prunes expired ones', async () => {
      const org = await t.f.org();
      const now = new Date();
      const live = hash();
      const expired = hash();
      await t.repo.saveOidcState({ stateHash: live, orgId: org.id, expiresAt: new Date(now.getTime() + DAY) });
      await t.repo.saveOidcState({ stateHash: expired, orgId: org.id, expiresAt: new Date(now.getTime() - DAY) });
      const uses = await Promise.all([t.repo.consumeOidcState(live, now), t.repo.consumeOidcState(live, now)]);
      expect(uses.filter(Boolean)).toEqual([org.id]);
      expect(await t.repo.consumeOidcState(expired, now)).toBeNull();
      expect(await t.repo.consumeOidcState(hash(), now)).toBeNull();
      await t.repo.pruneOidcStates(now);
      expect(await t.db.prisma.oidcState.findUnique({ where: { stateHash: expired } })).toBeNull();
      expect(await t.db.prisma.oidcState.findUnique({ where: { stateHash: live } })).not.toBeNull();
    });
  });
});
