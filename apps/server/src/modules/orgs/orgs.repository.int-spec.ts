import {
  factories,
  type Factories,
  hash,
  startTestDatabase,
  type TestDatabase,
} from '../../../../../test/support/factories';
import { uniqueName } from '../../../../../test/support/env';
import { OrgsRepository } from './orgs.repository';

const DAY = 86_400_000;

describe('OrgsRepository (real Postgres)', () => {
  let db: TestDatabase;
  let repo: OrgsRepository;
  let f: Factories;
  beforeAll(async () => {
    db = await startTestDatabase();
    repo = new OrgsRepository(db.prisma);
    f = factories(db.prisma);
  });
  afterAll(() => db?.close());

  const slug = () => uniqueName('org').replace(/_/g, '-');
  const email = () => `${uniqueName('u')}@example.test`;

  describe('orgs and members', () => {
    it('creates an org with its owner once per slug and email', async () => {
      const before = await repo.countOrgs();
      const s = slug();
      const e = email();
      const first = await repo.ensureOrgWithOwner({ slug: s, name: 'Acme' }, { email: e, name: 'Ann' });
      const again = await repo.ensureOrgWithOwner({ slug: s, name: 'Other' }, { email: e, name: 'Other' });
      expect(first.role).toBe('owner');
      expect(again.org).toEqual(first.org);
      expect(again.user).toEqual(first.user);
      expect(await repo.countOrgs()).toBe(before + 1);
      expect((await repo.findMembership(s, e))?.org.id).toBe(first.org.id);
      expect(await repo.findMembership(s, email())).toBeNull();
      expect((await repo.findOrgBySlug(s))?.id).toBe(first.org.id);
      expect(await repo.findOrgBySlug(slug())).toBeNull();
    });

    it('creates an org for an existing user, and null when the slug is taken', async () => {
      const user = await f.user();
      const s = slug();
      const org = await repo.createOrg({ slug: s, name: 'New' }, user.id);
      expect(org).not.toBeNull();
      expect((await repo.findMember(org!.id, user.id))?.role).toBe('owner');
      expect(await repo.createOrg({ slug: s, name: 'Again' }, user.id)).toBeNull();
      expect((await repo.getOrg(org!.id)).slug).toBe(s);
    });

    it("lists an org's members oldest first, never another org's", async () => {
      const { org, owner } = await f.orgWithOwner();
      const member = await f.member(org.id);
      const other = await f.orgWithOwner();
      expect((await repo.listMembers(org.id)).map((m) => m.user.id)).toEqual([owner.id, member.id]);
      expect(await repo.findMember(org.id, other.owner.id)).toBeNull();
      expect(await repo.countOwners(org.id)).toBe(1);
    });

    it('never leaves an org without an owner, by role change or removal', async () => {
      const { org, owner } = await f.orgWithOwner();
      expect(await repo.setRole(org.id, owner.id, 'admin')).toBe('last_owner');
      expect(await repo.removeMember(org.id, owner.id, new Date())).toBe('last_owner');
      const second = await f.member(org.id);
      expect(await repo.setRole(org.id, second.id, 'owner')).toMatchObject({ role: 'owner' });
      expect(await repo.setRole(org.id, owner.id, 'member')).toMatchObject({ role: 'member' });
      expect(await repo.setRole(org.id, (await f.user()).id, 'admin')).toBeNull();
      expect(await repo.removeMember(org.id, (await f.user()).id, new Date())).toBeNull();
    });

    it('removing a member ends their tokens and browser sessions in that org only', async () => {
      const { org } = await f.orgWithOwner();
      const other = await f.org();
      const leaver = await f.member(org.id);
      await db.prisma.membership.create({ data: { orgId: other.id, userId: leaver.id, role: 'member' } });
      const token = (orgId: string) =>
        db.prisma.apiToken.create({ data: { orgId, userId: leaver.id, name: 't', tokenHash: hash() } });
      const here = await token(org.id);
      const there = await token(other.id);
      const ws = await db.prisma.webSession.create({
        data: { orgId: org.id, userId: leaver.id, tokenHash: hash(), expiresAt: new Date(Date.now() + DAY) },
      });
      const now = new Date();
      expect(await repo.removeMember(org.id, leaver.id, now)).toMatchObject({ userId: leaver.id });
      expect(await repo.findMember(org.id, leaver.id)).toBeNull();
      expect((await db.prisma.apiToken.findUnique({ where: { id: here.id } }))?.revokedAt).toEqual(now);
      expect((await db.prisma.webSession.findUnique({ where: { id: ws.id } }))?.revokedAt).toEqual(now);
      expect((await db.prisma.apiToken.findUnique({ where: { id: there.id } }))?.revokedAt).toBeNull();
    });
  });

  describe('invitations', () => {
    it('lists open ones newest first, finds the newest open one per email, revokes once, per org', async () => {
      const { org, owner } = await f.orgWithOwner();
      const other = await f.org();
      const now = Date.now();
      const invite = (orgId: string, to: string, createdAt: Date, expiresAt = new Date(now + DAY)) =>
        db.prisma.invitation.create({
          data: { orgId, email: to, role: 'member', invitedById: owner.id, expiresAt, createdAt },
        });
      const to = email();
      const older = await invite(org.id, to, new Date(now - 2000));
      const newer = await invite(org.id, to, new Date(now - 1000));
      await invite(org.id, email(), new Date(now - 500), new Date(now - 1)); // expired
      await invite(other.id, to, new Date(now));
      const at = new Date(now);
      expect((await repo.listInvitations(org.id, at)).map((i) => i.id)).toEqual([newer.id, older.id]);
      expect((await repo.findOpenInvitation(org.id, to, at))?.id).toBe(newer.id);

      expect(await repo.revokeInvitation(other.id, newer.id, at)).toBe(false);
      expect(await repo.revokeInvitation(org.id, newer.id, at)).toBe(true);
      expect(await repo.revokeInvitation(org.id, newer.id, at)).toBe(false);
      expect((await repo.findOpenInvitation(org.id, to, at))?.id).toBe(older.id);
      expect(await repo.findOpenInvitation(org.id, email(), at)).toBeNull();

      const created = await repo.createInvitation({
        orgId: org.id,
        email: to,
        role: 'admin',
        invitedById: owner.id,
        expiresAt: new Date(now + DAY),
      });
      expect((await repo.findOpenInvitation(org.id, to, at))?.id).toBe(created.id);
    });
  });

  describe('single sign-on', () => {
    it('keeps one configuration per org: upserted, found, deleted once', async () => {
      const org = await f.org();
      const other = await f.org();
      const sso = {
        issuer: 'https://idp.example',
        clientId: 'c',
        clientSecretEnc: 'enc',
        allowedDomains: ['example.test'],
        defaultRole: 'member' as const,
      };
      expect(await repo.findSso(org.id)).toBeNull();
      await repo.upsertSso(org.id, sso);
      await repo.upsertSso(org.id, { ...sso, clientId: 'c2' });
      expect(await repo.findSso(org.id)).toMatchObject({ clientId: 'c2', allowedDomains: ['example.test'] });
      expect(await repo.findSso(other.id)).toBeNull();
      expect(await repo.deleteSso(other.id)).toBe(false);
      expect(await repo.deleteSso(org.id)).toBe(true);
      expect(await repo.deleteSso(org.id)).toBe(false);
    });

    it('provisions a new identity only with a role to join as, and links it to the same user next time', async () => {
      const { org } = await f.orgWithOwner();
      const id = { issuer: 'https://idp.example', subject: uniqueName('sub'), email: email(), name: 'Sam' };
      const now = new Date();
      expect(await repo.provision(org.id, id, null, null, now)).toBeNull();
      const invitation = await db.prisma.invitation.create({
        data: { orgId: org.id, email: id.email, role: 'admin', expiresAt: new Date(now.getTime() + DAY) },
      });
      const first = await repo.provision(org.id, id, 'admin', invitation.id, now);
      expect(first).toMatchObject({ role: 'admin', user: { email: id.email } });
      expect((await db.prisma.invitation.findUnique({ where: { id: invitation.id } }))?.acceptedAt).toEqual(now);
      // Signing in again (even with an email the IdP changed) is the same user with their current role.
      const again = await repo.provision(org.id, { ...id, email: email() }, 'member', null, now);
      expect(again).toMatchObject({ role: 'admin', user: { id: first!.user.id } });
    });

    it('uses a sign-in state once, before it expires; prunes expired ones', async () => {
      const org = await f.org();
      const now = new Date();
      const live = hash();
      const expired = hash();
      await repo.saveOidcState({ stateHash: live, orgId: org.id, expiresAt: new Date(now.getTime() + DAY) });
      await repo.saveOidcState({ stateHash: expired, orgId: org.id, expiresAt: new Date(now.getTime() - DAY) });
      const uses = await Promise.all([repo.consumeOidcState(live, now), repo.consumeOidcState(live, now)]);
      expect(uses.filter(Boolean)).toEqual([org.id]);
      expect(await repo.consumeOidcState(expired, now)).toBeNull();
      expect(await repo.consumeOidcState(hash(), now)).toBeNull();
      await repo.pruneOidcStates(now);
      expect(await db.prisma.oidcState.findUnique({ where: { stateHash: expired } })).toBeNull();
      expect(await db.prisma.oidcState.findUnique({ where: { stateHash: live } })).not.toBeNull();
    });
  });
});
