import { randomUUID } from 'node:crypto';
import { PRINCIPAL_TTL_MS } from '../../apps/server/src/core/auth/principal-cache';
import { hashSecret, newSecret } from '../../apps/server/src/core/tokens';
import { type ApiProcess, startApiProcess } from '../audit/support/api-process';
import { factories, startTestDatabase, type TestDatabase } from '../support/factories';
import { expectEventually } from '../support/env';

/**
 * API tokens are resolved once per few seconds (PrincipalCache). What changes who a token is acts at once in the process
 * that made the change (the API process here): a revoke, a sign-out, a member's removal, a role change. A change this process did not make
 * (another replica's) takes effect within PRINCIPAL_TTL_MS. A token stays in its own org whatever is cached.
 */
describe('cached API tokens (real Postgres, one API process)', () => {
  let db: TestDatabase;
  let t: ApiProcess;
  let f: ReturnType<typeof factories>;

  beforeAll(async () => {
    db = await startTestDatabase();
    t = await startApiProcess(db.url);
    f = factories(db.prisma);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await db?.close();
  });

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  const me = (token: string) => call(token, 'GET', '/me');

  async function tokenFor(orgId: string, userId: string) {
    const token = newSecret('ykt');
    const row = await f.apiToken(orgId, userId, { tokenHash: hashSecret(token) });
    return { token, id: row.id };
  }

  it('a revoked token is refused by the next request', async () => {
    const { org, owner } = await f.orgWithOwner();
    const kept = await tokenFor(org.id, owner.id);
    const revoked = await tokenFor(org.id, owner.id);
    expect((await me(revoked.token)).status).toBe(200); // now cached
    expect((await call(kept.token, 'DELETE', `/tokens/${revoked.id}`)).status).toBe(204);
    expect(await me(revoked.token)).toMatchObject({ status: 401, body: { code: 'auth.invalid_token' } });
    expect((await me(kept.token)).status).toBe(200);
  });

  it('a token used to sign out is refused by the next request', async () => {
    const { org, owner } = await f.orgWithOwner();
    const { token } = await tokenFor(org.id, owner.id);
    expect((await me(token)).status).toBe(200);
    expect((await call(token, 'POST', '/auth/logout')).status).toBeLessThan(400);
    expect((await me(token)).status).toBe(401);
  });

  it("a role change is in effect at the member's next request", async () => {
    const { org, owner } = await f.orgWithOwner();
    const admin = await f.member(org.id, 'admin');
    const ownerToken = await tokenFor(org.id, owner.id);
    const adminToken = await tokenFor(org.id, admin.id);
    expect((await me(adminToken.token)).body.role).toBe('admin');
    expect((await call(adminToken.token, 'GET', '/org/invitations')).status).toBe(200); // an admin route, cached
    expect((await call(ownerToken.token, 'PATCH', `/org/members/${admin.id}`, { role: 'member' })).status).toBe(200);
    expect((await me(adminToken.token)).body.role).toBe('member');
    expect((await call(adminToken.token, 'GET', '/org/invitations')).status).toBe(403);
  });

  it('a removed member is refused by their next request', async () => {
    const { org, owner } = await f.orgWithOwner();
    const leaver = await f.member(org.id, 'member');
    const ownerToken = await tokenFor(org.id, owner.id);
    const leaverToken = await tokenFor(org.id, leaver.id);
    const session = await f.session(org.id, leaver.id);
    expect((await call(leaverToken.token, 'GET', `/sessions/${session.id}`)).status).toBe(200);
    expect((await call(ownerToken.token, 'DELETE', `/org/members/${leaver.id}`)).status).toBe(204);
    expect((await call(leaverToken.token, 'GET', `/sessions/${session.id}`)).status).toBe(401);
  });

  it('a change another replica made takes effect within the TTL', async () => {
    const { org, owner } = await f.orgWithOwner();
    const { token, id } = await tokenFor(org.id, owner.id);
    expect((await me(token)).status).toBe(200);
    // Revoked behind this process's back, as another replica would.
    const revokedAt = Date.now();
    await db.prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await expectEventually(async () => (await me(token)).status === 401, PRINCIPAL_TTL_MS + 2_000, 100);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(PRINCIPAL_TTL_MS + 1_000);
  });

  it("a user's tokens for two orgs each read their own org only, cached or not", async () => {
    const a = await f.orgWithOwner();
    const b = await f.org();
    await db.prisma.membership.create({ data: { orgId: b.id, userId: a.owner.id, role: 'member' } });
    const tokenA = await tokenFor(a.org.id, a.owner.id);
    const tokenB = await tokenFor(b.id, a.owner.id);
    const sessionA = await f.session(a.org.id, a.owner.id);
    for (let i = 0; i < 2; i++) {
      expect((await me(tokenA.token)).body).toMatchObject({ orgId: a.org.id, role: 'owner' });
      expect((await me(tokenB.token)).body).toMatchObject({ orgId: b.id, role: 'member' });
      expect((await call(tokenA.token, 'GET', `/sessions/${sessionA.id}`)).status).toBe(200);
      expect((await call(tokenB.token, 'GET', `/sessions/${sessionA.id}`)).status).toBe(404);
      expect((await call(tokenB.token, 'GET', `/sessions/${sessionA.id}/items`)).status).toBe(404);
      const list = await call(tokenB.token, 'GET', '/sessions');
      expect(JSON.stringify(list.body)).not.toContain(sessionA.id);
    }
    expect((await me(`ykt_${randomUUID()}`)).status).toBe(401);
  });
});
