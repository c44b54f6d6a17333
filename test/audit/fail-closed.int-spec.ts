import { DEVICE_GRANT_TYPE, NS_RUNNER, PROTOCOL_VERSION } from '@yoke/protocol';
import { io, type Socket } from 'socket.io-client';
import { hashSecret, newSecret } from '../../apps/server/src/core/tokens';
import { startTestDatabase, type TestDatabase } from '../support/factories';
import { type ApiProcess, startApiProcess } from './support/api-process';

/**
 * The audit log fails closed (issue 16, item 3), against a real server on its own database: with a test trigger that
 * refuses every INSERT on `audit_events`, a device sign-in, a token revoke, a policy change and a runner's item batch
 * each fail with 503 `audit.unavailable` and change nothing; once the trigger is gone the same calls succeed, each
 * with its event. The sign-in is the CLI's device login (the sign-in the in-process app serves without an identity
 * provider): the person's approval and the token it mints.
 */
describe('the audit log fails closed', () => {
  let db: TestDatabase;
  let server: ApiProcess;
  let t: { url: string; prisma: TestDatabase['prisma'] };
  let org: { id: string };
  let owner: { id: string; email: string };
  let ownerToken: string;
  let ownerTokenId: string;
  let spare: { id: string; token: string };
  let session: { id: string };
  let runner: Socket;

  const api = async (method: string, path: string, body?: unknown, token: string | null = ownerToken) => {
    const res = await fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { code?: string },
    };
  };
  const refuseAppends = async () => {
    await t.prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit appends refused by the test'; END $$`);
    await t.prisma.$executeRawUnsafe(`CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()`);
  };
  const allowAppends = () => t.prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS test_refuse_audit ON audit_events');
  const events = (action: string) =>
    t.prisma.auditEvent.findMany({ where: { orgId: org.id, action }, orderBy: { seq: 'asc' } });
  const startDevice = async () =>
    (await api('POST', '/auth/device/code', { client_id: 'yoke-cli' }, null)).body as unknown as {
      device_code: string;
      user_code: string;
    };
  const poll = (deviceCode: string) =>
    api('POST', '/auth/device/token', { grant_type: DEVICE_GRANT_TYPE, device_code: deviceCode }, null);
  const decide = (userCode: string) => api('POST', '/auth/device/decision', { userCode, approve: true });
  const deviceStatus = async (userCode: string) =>
    (await t.prisma.deviceAuthorization.findFirstOrThrow({ where: { userCode } })).status;
  const sendItems = async (items: unknown[]) =>
    (await runner.timeout(10_000).emitWithAck('session.items', { sessionId: session.id, items })) as {
      ok: boolean;
      error?: { code: string };
    };
  const toolCall = {
    seq: 1,
    turnId: 't1',
    type: 'tool_call',
    callId: 'call-1',
    tool: 'shell',
    nativeTool: 'Bash',
    input: { command: 'git push origin main' },
    status: 'pending',
    createdAt: new Date().toISOString(),
  };
  const policies = '- { type: deny_commands, name: no-push, patterns: ["git push"] }\n';

  beforeAll(async () => {
    db = await startTestDatabase();
    server = await startApiProcess(db.url);
    t = { url: server.url, prisma: db.prisma };
    org = await t.prisma.org.create({ data: { slug: 'fail-closed', name: 'Fail closed' } });
    owner = await t.prisma.user.create({ data: { email: 'owner@fc.example', name: 'Owner' } });
    await t.prisma.membership.create({ data: { orgId: org.id, userId: owner.id, role: 'owner' } });
    ownerToken = newSecret('ykt');
    ownerTokenId = (
      await t.prisma.apiToken.create({
        data: { orgId: org.id, userId: owner.id, name: 'owner', tokenHash: hashSecret(ownerToken) },
      })
    ).id;
    const spareToken = newSecret('ykt');
    const spareRow = await t.prisma.apiToken.create({
      data: { orgId: org.id, userId: owner.id, name: 'spare', tokenHash: hashSecret(spareToken) },
    });
    spare = { id: spareRow.id, token: spareToken };
    const credential = newSecret('ykr');
    const runnerRow = await t.prisma.runner.create({
      data: { orgId: org.id, name: 'r', credentialHash: hashSecret(credential) },
    });
    session = await t.prisma.session.create({
      data: {
        orgId: org.id,
        ownerId: owner.id,
        runnerId: runnerRow.id,
        title: 's',
        agent: { name: 'a', prompt: 'p' },
        harness: 'yoke',
      },
    });
    // Connected while the log still takes appends (a runner link the log cannot record is refused).
    runner = io(`${t.url}${NS_RUNNER}`, {
      auth: { credential, protocolVersion: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      runner.once('connect', resolve);
      runner.once('connect_error', reject);
    });
  });

  afterAll(async () => {
    runner?.close();
    await server?.close();
    await db?.close();
  });

  describe('while the audit log refuses appends', () => {
    // A second device login, approved before the log refuses appends: its poll must then mint nothing.
    let approved: { device_code: string; user_code: string };
    let refused: { device_code: string; user_code: string };

    beforeAll(async () => {
      approved = await startDevice();
      expect((await decide(approved.user_code)).status).toBe(200);
      refused = await startDevice();
      await refuseAppends();
    });

    it('a device sign-in fails with audit.unavailable, at the approval and at the token, and nothing changes', async () => {
      const decision = await decide(refused.user_code);
      expect(decision).toMatchObject({ status: 503, body: { code: 'audit.unavailable' } });
      expect(await deviceStatus(refused.user_code)).toBe('pending');
      expect((await poll(refused.device_code)).body).toMatchObject({ error: 'authorization_pending' });

      const tokensBefore = await t.prisma.apiToken.count();
      const minted = await poll(approved.device_code);
      expect(minted).toMatchObject({ status: 503, body: { code: 'audit.unavailable' } });
      expect(await t.prisma.apiToken.count()).toBe(tokensBefore);
      expect(await deviceStatus(approved.user_code)).toBe('approved');
    });

    it('a token revoke fails with audit.unavailable, and the token still works', async () => {
      const revoke = await api('DELETE', `/tokens/${spare.id}`);
      expect(revoke).toMatchObject({ status: 503, body: { code: 'audit.unavailable' } });
      expect((await api('GET', '/me', undefined, spare.token)).status).toBe(200);
    });

    it('a policy change fails with audit.unavailable, and the policy set is unchanged', async () => {
      const put = await api('PUT', '/policies', { yaml: policies });
      expect(put).toMatchObject({ status: 503, body: { code: 'audit.unavailable' } });
      expect((await api('GET', '/policies')).body).toMatchObject({ yaml: '', version: 0 });
    });

    it('a runner batch with a tool call is refused, and its items are not stored', async () => {
      const ack = await sendItems([toolCall]);
      expect(ack).toMatchObject({ ok: false, error: { code: 'audit.unavailable' } });
      expect(await t.prisma.sessionItem.count({ where: { sessionId: session.id } })).toBe(0);
      expect((await t.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).lastSeq).toBe(0);
    });

    it('left no event of any of them', async () => {
      const rows = await t.prisma.auditEvent.findMany({
        where: { orgId: org.id, action: { in: ['api_token.revoked', 'policy_set.changed', 'tool.call'] } },
      });
      expect(rows).toEqual([]);
      expect((await events('auth.device_login')).length).toBe(1);
    });
  });

  describe('once the audit log takes appends again', () => {
    beforeAll(allowAppends);

    it('a device sign-in succeeds, recorded as the approving user with the token it minted', async () => {
      const code = await startDevice();
      expect((await decide(code.user_code)).status).toBe(200);
      const got = await poll(code.device_code);
      expect(got.status).toBe(200);
      expect(got.body.access_token).toEqual(expect.stringMatching(/^ykt_/));

      const [, login] = await events('auth.device_login');
      expect(login).toMatchObject({ actorKind: 'token', actorId: ownerTokenId, outcome: 'success' });
      expect(login.event).toMatchObject({
        actor: { kind: 'token', id: ownerTokenId, onBehalfOf: owner.id },
        target: { kind: 'device_authorization' },
        details: { decision: 'approved', client: 'yoke-cli' },
      });
      const minted = (await events('api_token.created')).at(-1)!;
      expect(minted).toMatchObject({ actorKind: 'user', actorId: owner.id, outcome: 'success' });
      expect(minted.event).toMatchObject({ details: { kind: 'cli', userId: owner.id } });
    });

    it('a token revoke succeeds, recorded with its actor, and the token stops working', async () => {
      expect((await api('DELETE', `/tokens/${spare.id}`)).status).toBe(204);
      expect((await api('GET', '/me', undefined, spare.token)).status).toBe(401);
      const [revoked] = await events('api_token.revoked');
      expect(revoked).toMatchObject({ actorKind: 'token', actorId: ownerTokenId, outcome: 'success' });
      expect(revoked.event).toMatchObject({ target: { kind: 'api_token', id: spare.id } });
    });

    it('a policy change succeeds, recorded with the diff as content', async () => {
      const put = await api('PUT', '/policies', { yaml: policies });
      expect(put).toMatchObject({ status: 200, body: { version: 1, count: 1 } });
      const [changed] = await events('policy_set.changed');
      expect(changed).toMatchObject({ actorKind: 'token', actorId: ownerTokenId, outcome: 'success' });
      expect(changed.event).toMatchObject({
        details: { fromVersion: 0, toVersion: 1, policies: 1, added: 1, removed: 0, changed: 0 },
      });
      const content = await t.prisma.auditContent.findFirstOrThrow({
        where: { orgId: org.id, hash: changed.contentHash! },
      });
      expect(content.body).toEqual({ file: 'org-policies.yaml', before: '', after: policies });
      // Content stays out of the details.
      expect(JSON.stringify(changed.event)).not.toContain('git push');
    });

    it('a runner batch with a tool call is stored with its tool.call event, in one transaction', async () => {
      expect(await sendItems([toolCall])).toEqual({ ok: true, lastSeq: 1 });
      const [call] = await events('tool.call');
      expect(call).toMatchObject({
        actorKind: 'agent',
        actorId: session.id,
        sessionId: session.id,
        outcome: 'success',
      });
      expect(call.event).toMatchObject({
        actor: { kind: 'agent', id: session.id, onBehalfOf: owner.id },
        target: { kind: 'tool_call', id: 'call-1' },
        turnId: 't1',
        details: { callId: 'call-1', tool: 'shell', nativeTool: 'Bash', status: 'pending' },
      });
      const content = await t.prisma.auditContent.findFirstOrThrow({
        where: { orgId: org.id, hash: call.contentHash! },
      });
      expect(content.body).toEqual(toolCall.input);
      // `xmin` is the id of the transaction that wrote a row: the item and its event share one.
      const [item] = await t.prisma.$queryRaw<{ xmin: string }[]>`
        SELECT xmin::text FROM session_items WHERE session_id = ${session.id}::uuid AND seq = 1`;
      const [event] = await t.prisma.$queryRaw<{ xmin: string }[]>`
        SELECT xmin::text FROM audit_events WHERE org_id = ${org.id}::uuid AND seq = ${call.seq}`;
      expect(event.xmin).toBe(item.xmin);
    });

    it("recorded the runner's connection as the runner", async () => {
      const [connected] = await events('runner.connected');
      expect(connected).toMatchObject({ actorKind: 'runner', outcome: 'success' });
      expect(connected.event).toMatchObject({
        target: { kind: 'runner', name: 'r' },
        requestId: `socket:${runner.id}`,
      });
    });

    it('keeps the log gap-free across the refused appends', async () => {
      const seqs = (await t.prisma.auditEvent.findMany({ where: { orgId: org.id }, orderBy: { seq: 'asc' } })).map(
        (e) => Number(e.seq),
      );
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    });
  });
});
