import { join } from 'node:path';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { generateSigningKey, verifyBundle } from '@yoke/audit';
import type {
  Approval,
  AuditEvent,
  AuditEventsPage,
  AuditKeyView,
  CreatedToken,
  EnrolReply,
  InboxEntry,
  ItemsAck,
  Me,
  RedeemLinkReply,
  RunnerView,
  Session,
  ShareGrant,
  ShareLink,
} from '@yoke/protocol';
import { readBundle, seedOrg, seedPerson, type SeededPerson } from '../audit/support/e2e-fixtures';
import { createTestDatabase, expectEventually, MODES, type Mode } from '../support/env';
import { runCli, tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const POLICIES = '- { type: ask_on_tools, name: ask-shell, tools: [shell] }\n';

/** One audit event as the scenario pins it: what happened, who did it (by kind), how it ended. */
type Pinned = [action: string, actor: AuditEvent['actor']['kind'], outcome: AuditEvent['outcome']];
const pinned = (events: AuditEvent[]): Pinned[] => events.map((e) => [e.action, e.actor.kind, e.outcome]);

/**
 * The audit trail end to end, in each deployment shape: two people of one org work on a session (a prompt, a tool
 * call denied by policy, one that asks and is approved by the second person, a tool call and its result), share it
 * by link with a guest who joins, change the org's policy set, create and revoke an API token, then export the log
 * through the real CLI and verify the bundle offline. The bundle must hold exactly the events the scenario caused,
 * in the order it caused them — plus those the system adds on its own — so a missing, duplicated or reordered event
 * fails here.
 *
 * The runner is a raw /runner socket speaking the protocol: the items it reports (and so the events they make) are
 * exactly what this test sends, with no model in the loop.
 */
describe.each(MODES)('audit trail: a scenario exported and verified (%s mode)', (mode: Mode) => {
  let stack: Stack;
  /** Team mode: the stack's database, to seed people (see seedPerson) and another org. */
  let pg: Client | null = null;
  let dropDb: (() => Promise<void>) | null = null;
  let me: Me;
  let runner: Socket;
  let runnerId = '';
  const inputs: InboxEntry[] = [];
  const expected: Pinned[] = [];
  const bundle = join(tempDir('yoke-audit-e2e'), 'audit.tar.gz');
  let exportedEvents: AuditEvent[] = [];

  /** Who acts through the stack's own credential: the bootstrap admin's API token (team), the local user (embedded). */
  const ownerKind: Pinned[1] = mode === 'team' ? 'token' : 'user';
  /** The next event the log must hold, pinned as the step that causes it is taken. */
  const expectEvent = (...e: Pinned) => expected.push(e);

  beforeAll(async () => {
    if (mode === 'team') {
      const db = await createTestDatabase();
      dropDb = db.drop;
      stack = await startStack('team', { DATABASE_URL: db.url });
      // Team mode runs exports as BullMQ jobs: they need the worker.
      await stack.startWorker();
      pg = new Client({ connectionString: db.url });
      await pg.connect();
    } else {
      stack = await startStack('embedded');
    }
    me = (await stack.api<Me>('GET', '/me')).body;
  });

  afterAll(async () => {
    await pg?.end().catch(() => undefined);
    await stack?.stop();
    await dropDb?.().catch(() => undefined);
  });

  const api = <T>(method: string, path: string, body?: unknown, token?: string | null) =>
    stack.api<T>(method, path, body, token);

  let seq = 0;
  async function report(sessionId: string, items: Record<string, unknown>[]): Promise<void> {
    const createdAt = new Date().toISOString();
    const batch = items.map((item) => ({ seq: ++seq, turnId: 't1', createdAt, ...item }));
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId, items: batch });
    expect(ack).toEqual({ ok: true, lastSeq: seq });
  }

  async function joined(token: string, sessionId: string): Promise<Socket> {
    const s = stack.webSocket(token);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () =>
        s.emit('session.join', { sessionId, afterSeq: 0 }, (r: { ok: boolean; error?: unknown }) =>
          r.ok ? resolve() : reject(new Error(JSON.stringify(r.error))),
        ),
      );
      s.once('connect_error', reject);
    });
    return s;
  }

  it('records the scenario; `yoke audit export` writes a bundle that `yoke audit verify` accepts, holding exactly these events in order', async () => {
    // What the server records on its own before anyone acts: its org and (team) the bootstrap admin's token.
    expectEvent('org.created', 'system', 'success');
    if (mode === 'team') expectEvent('api_token.created', 'system', 'success');

    // The second person. Team: a member of the org (seeded in the database: how people join an org is identity's
    // business, not this scenario's), who gets the right to approve through the product below (a share invite with
    // canApprove). Embedded: the server has exactly one local user — whoever holds its local secret — so there is no
    // second account to invite; the second person is a share-link guest who drives (prompts), and the approval is
    // the local user's.
    let mia: SeededPerson | null = null;
    if (mode === 'team') mia = await seedPerson(pg!, me.orgId, 'member', 'Mia');

    // A runner enrols and connects (a raw socket: the items below are exactly what it reports).
    const enrolment = await stack.enrolmentToken();
    expectEvent('runner.enrolment_created', ownerKind, 'success');
    const enrolled = await api<EnrolReply>('POST', '/runners/enrol', { token: enrolment, name: 'raw' }, null);
    expect(enrolled.status).toBe(201);
    runnerId = enrolled.body.runnerId;
    expectEvent('runner.enrolled', 'runner', 'success');
    runner = stack.rawRunnerSocket(enrolled.body.credential);
    runner.on('session.input', (entry: InboxEntry, ack: (r: unknown) => void) => {
      inputs.push(entry);
      ack({ ok: true, applied: true });
    });
    await new Promise<void>((resolve) => runner.on('connect', () => resolve()));
    await runner.emitWithAck('runner.hello', { sessions: [] });
    // Online (and its audit event committed with that): the server records the connection after accepting it.
    await expectEventually(
      async () => (await api<RunnerView[]>('GET', '/runners')).body.find((r) => r.id === runnerId)?.online,
    );
    expectEvent('runner.connected', 'runner', 'success');

    // The session.
    const created = await api<Session>('POST', '/sessions', { agentYaml: AGENT });
    expect(created.status).toBe(201);
    const session = created.body;
    expectEvent('session.created', ownerKind, 'success');
    await expectEventually(() => inputs.some((i) => i.sessionId === session.id && i.input.kind === 'start'));

    // Team: the owner shares the session with Mia, who may drive and approve.
    if (mia) {
      const invite = await api<ShareGrant>('POST', `/sessions/${session.id}/shares/invites`, {
        userId: mia.userId,
        role: 'driver',
        canApprove: true,
      });
      expect(invite.status).toBe(201);
      expectEvent('share.created', ownerKind, 'success');
    }

    // A share link, redeemed by a guest who joins the session live.
    const link = await api<ShareLink>('POST', `/sessions/${session.id}/shares/links`, { role: 'driver' });
    expect(link.status).toBe(201);
    expectEvent('share.created', ownerKind, 'success');
    const redeemed = await api<RedeemLinkReply>(
      'POST',
      '/share-links/redeem-guest',
      { token: link.body.token, guestName: 'Gail' },
      null,
    );
    expect(redeemed.status).toBe(200);
    const guest = redeemed.body.credential!;
    expectEvent('share.redeemed', 'guest', 'success');
    expectEvent('guest.joined', 'guest', 'success');
    await joined(guest, session.id);

    // A prompt by the second person (Mia / the guest), which the runner stores with its author.
    const author = mia ? mia.token : guest;
    expect((await api('POST', `/sessions/${session.id}/messages`, { text: 'tidy up and push' }, author)).status).toBe(
      202,
    );
    const message = await expectEventually(() =>
      inputs.find((i) => i.sessionId === session.id && i.input.kind === 'message'),
    );
    const promptActor = message.input.kind === 'message' ? message.input.actor : null;
    await report(session.id, [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: 'tidy up and push' }], actor: promptActor },
    ]);
    expectEvent('session.prompt', mia ? 'user' : 'guest', 'success');

    // A tool call the policy denies.
    await report(session.id, [
      {
        type: 'policy_decision',
        action: 'tool_call',
        callId: 'c1',
        verdict: 'deny',
        policies: ['no-rm'],
        reasons: ['no-rm: rm -rf is not allowed'],
      },
      {
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'shell',
        input: { command: 'rm -rf /' },
        status: 'denied',
      },
    ]);
    expectEvent('policy.decision', 'agent', 'denied');
    expectEvent('tool.call', 'agent', 'denied');

    // A tool call that asks: the second person (team) / the local user (embedded) approves it over REST.
    await report(session.id, [
      {
        type: 'policy_decision',
        action: 'tool_call',
        callId: 'c2',
        verdict: 'ask',
        policies: ['ask-push'],
        reasons: ['ask-push: pushing needs a human'],
      },
      {
        type: 'approval_request',
        approvalId: 'ap1',
        callId: 'c2',
        subject: 'tool_call',
        policy: 'ask-push',
        reason: 'ask-push: pushing needs a human',
        options: ['approve', 'deny'],
      },
    ]);
    expectEvent('policy.decision', 'agent', 'success');
    expectEvent('approval.requested', 'agent', 'success');
    const approver = mia ? mia.token : undefined;
    const decided = await api<Approval>(
      'POST',
      `/sessions/${session.id}/approvals/ap1`,
      { decision: 'approve' },
      approver,
    );
    expect(decided.status).toBe(200);
    expectEvent('approval.decided', mia ? 'token' : 'user', 'success');

    // The runner applies the decision (recorded in the session; the human's call already made the audit event), then
    // the approved call runs.
    const delivered = await expectEventually(() =>
      inputs.find((i) => i.sessionId === session.id && i.input.kind === 'approval'),
    );
    const decisionActor = delivered.input.kind === 'approval' ? delivered.input.actor : null;
    await report(session.id, [
      { type: 'approval_decision', approvalId: 'ap1', decision: 'approve', actor: decisionActor },
      // A plain allow is no event: only decisions that are not a plain allow are.
      {
        type: 'policy_decision',
        action: 'tool_call',
        callId: 'c2',
        verdict: 'allow',
        policies: ['ask-push'],
        reasons: ['approved'],
      },
      {
        type: 'tool_call',
        callId: 'c2',
        tool: 'shell',
        nativeTool: 'shell',
        input: { command: 'git push' },
        status: 'completed',
      },
      { type: 'tool_result', callId: 'c2', output: 'pushed', isError: false },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ]);
    expectEvent('tool.call', 'agent', 'success');
    expectEvent('tool.result', 'agent', 'success');

    // The org's policy set changes.
    expect((await api('PUT', '/policies', { yaml: POLICIES })).status).toBe(200);
    expectEvent('policy_set.changed', ownerKind, 'success');

    // An API token, created and revoked.
    const token = await api<CreatedToken>('POST', '/tokens', { name: 'audit-e2e' });
    expect(token.status).toBe(201);
    expectEvent('api_token.created', ownerKind, 'success');
    expect((await api('DELETE', `/tokens/${token.body.id}`)).status).toBe(204);
    expectEvent('api_token.revoked', ownerKind, 'success');

    // The export, through the real CLI; its own request is in the log it exports.
    const exported = await runCli(['audit', 'export', '--out', bundle], stack.cliEnv, 60_000);
    expectEvent('audit.exported', ownerKind, 'success');
    expect(exported).toEqual({
      code: 0,
      stdout: expect.stringContaining(`wrote ${expected.length} events`),
      stderr: '',
    });

    // Verified offline by the CLI (no server in its environment) and by the library.
    const verified = await runCli(['audit', 'verify', bundle], { YOKE_HOME: tempDir('yoke-cli') }, 60_000);
    expect(verified).toEqual({
      code: 0,
      stdout: expect.stringContaining(`events       ${expected.length} (seq 1 to ${expected.length}), org ${me.orgId}`),
      stderr: '',
    });
    const published = (await api<AuditKeyView[]>('GET', '/audit/keys', undefined, null)).body;
    const report_ = await verifyBundle(bundle, { trustedKeys: published.map((k) => k.vkey) });
    expect(report_).toMatchObject({ ok: true, orgId: me.orgId, keysTrusted: true, events: expected.length });

    // The bundle as a reviewer reads it: the whole log, from seq 1 with no gaps, this org's only.
    const { manifest, events } = await readBundle(bundle);
    exportedEvents = events;
    expect(manifest).toMatchObject({ orgId: me.orgId, filters: {}, range: { fromSeq: 1, toSeq: expected.length } });
    expect(events.map((e) => e.seq)).toEqual(expected.map((_, i) => i + 1));
    expect(events.every((e) => e.orgId === me.orgId)).toBe(true);

    // A few events in full (the whole list is pinned last).
    const one = (action: string, pick = (_: AuditEvent) => true) => {
      const found = events.filter((e) => e.action === action && pick(e));
      expect(found).toHaveLength(1);
      return found[0];
    };
    expect(one('session.created')).toMatchObject({
      target: { kind: 'session', id: session.id },
      sessionId: session.id,
    });
    expect(one('runner.connected')).toMatchObject({ actor: { kind: 'runner', id: runnerId } });
    expect(one('session.prompt')).toMatchObject({
      sessionId: session.id,
      turnId: 't1',
      actor: mia ? { kind: 'user', id: mia.userId, name: 'Mia' } : { id: promptActor!.id, name: 'Gail' },
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(one('policy.decision', (e) => e.outcome === 'denied')).toMatchObject({
      target: { kind: 'tool_call', id: 'c1' },
      details: { verdict: 'deny', callId: 'c1' },
    });
    expect(one('policy.decision', (e) => e.outcome === 'success')).toMatchObject({ details: { verdict: 'ask' } });
    expect(one('approval.requested')).toMatchObject({ target: { kind: 'approval', id: 'ap1' } });
    const approval = one('approval.decided');
    expect(approval).toMatchObject({
      target: { kind: 'approval', id: 'ap1' },
      sessionId: session.id,
      details: { decision: 'approve', waitedSeconds: expect.any(Number) },
      actor: mia ? { kind: 'token', onBehalfOf: mia.userId } : { kind: 'user', id: me.userId },
    });
    expect(approval.details.waitedSeconds).toBeGreaterThanOrEqual(0);
    const guestJoined = one('guest.joined');
    expect(guestJoined).toMatchObject({ sessionId: session.id, target: { kind: 'share_grant' } });
    expect(one('share.redeemed')).toMatchObject({ target: { kind: 'share_link', id: link.body.id } });
    expect(one('api_token.revoked')).toMatchObject({ target: { kind: 'api_token', id: token.body.id } });
    expect(one('api_token.created', (e) => e.target.id === token.body.id)).toMatchObject({
      target: { kind: 'api_token', name: 'audit-e2e' },
    });
    expect(events.at(-1)).toMatchObject({ action: 'audit.exported', target: { kind: 'audit_export' } });
    if (!mia) {
      // The guest's prompt is theirs, by its grant, as every other event of theirs names it.
      expect(one('session.prompt').actor).toMatchObject({ kind: 'guest', id: guestJoined.actor.id });
    }

    // Exactly the expected events, in the order the scenario caused them: none missing, duplicated or moved.
    expect(pinned(events)).toEqual(expected);
  });

  it('`yoke audit verify --key` with a key that did not sign the checkpoints fails, naming unknown_key', async () => {
    expect(exportedEvents.length).toBeGreaterThan(0);
    const stranger = generateSigningKey('not-this-server').vkey;
    const r = await runCli(['audit', 'verify', bundle, '--key', stranger], { YOKE_HOME: tempDir('yoke-cli') }, 60_000);
    expect(r).toEqual({ code: 1, stdout: expect.stringMatching(/^(bundle|seq \d+): unknown_key: /), stderr: '' });
    // The same bundle against the key the server publishes is intact.
    const published = (await api<AuditKeyView[]>('GET', '/audit/keys', undefined, null)).body;
    const pinnedKeys = published.flatMap((k) => ['--key', k.vkey]);
    expect((await runCli(['audit', 'verify', bundle, ...pinnedKeys], { YOKE_HOME: tempDir('yoke-cli') })).code).toBe(0);
  });

  /** The org's log after the bundle's last seq, as its owner reads it (the read itself is recorded after it). */
  async function logAfter(seq_: number): Promise<AuditEvent[]> {
    const page = await api<AuditEventsPage>('GET', `/audit/events?after=${seq_}&limit=500`);
    expect(page.status).toBe(200);
    return page.body.events.map((v) => v.event);
  }

  it('what follows the export is in the live log, not in the bundle: its download, then each read', async () => {
    const size = exportedEvents.length;
    expect(size).toBeGreaterThan(0);
    expectEvent('audit.downloaded', ownerKind, 'success');
    const after = await logAfter(size);
    expectEvent('audit.read', ownerKind, 'success');
    expect(pinned(after)).toEqual(expected.slice(size, -1));
    // The download names the export whose request closes the bundle.
    expect(after[0].target).toEqual({ kind: 'audit_export', id: exportedEvents.at(-1)!.target.id });
  });

  // Isolation between orgs needs a second org: embedded mode has one org and one local user.
  if (mode === 'team') {
    it("isolation: another org's auditor gets 404 for this export and none of its events, in REST, exports and live; a member is refused", async () => {
      const size = exportedEvents.length;
      const exportId = exportedEvents.at(-1)!.target.id;
      // Seeded like the member above: an org nobody created through the product, with an auditor.
      const otherOrg = await seedOrg(pg!, `other-${Date.now().toString(36)}`);
      const auditor = await seedPerson(pg!, otherOrg, 'auditor', 'Otto');
      const ours = new Set(exportedEvents.map((e) => e.id));

      expect((await api('GET', `/audit/exports/${exportId}`, undefined, auditor.token)).status).toBe(404);
      expect((await api('GET', `/audit/exports/${exportId}/download`, undefined, auditor.token)).status).toBe(404);
      const theirs = await api<AuditEventsPage>('GET', '/audit/events?limit=500', undefined, auditor.token);
      expect(theirs.status).toBe(200);
      expect(theirs.body.events.filter((v) => v.event.orgId !== otherOrg || ours.has(v.event.id))).toEqual([]);
      // Their own export holds their org's log only.
      const theirBundle = join(tempDir('yoke-audit-e2e'), 'theirs.tar.gz');
      const exported = await runCli(
        ['audit', 'export', '--out', theirBundle],
        { ...stack.cliEnv, YOKE_TOKEN: auditor.token },
        60_000,
      );
      expect(exported.code).toBe(0);
      const their = await readBundle(theirBundle);
      expect(their.manifest.orgId).toBe(otherOrg);
      expect(their.events.filter((e) => e.orgId !== otherOrg || ours.has(e.id))).toEqual([]);

      // A member of this org reads no audit log.
      const max = await seedPerson(pg!, me.orgId, 'member', 'Max');
      expect((await api('GET', '/audit/events', undefined, max.token)).status).toBe(403);

      // Live: both watch; an action here reaches this org's admin only.
      const watch = async (token: string) => {
        const s = stack.webSocket(token);
        const got: AuditEvent[] = [];
        s.on('audit.appended', (events: AuditEvent[]) => got.push(...events));
        await new Promise<void>((resolve) => s.once('connect', () => resolve()));
        expect(await s.emitWithAck('audit.watch', {})).toEqual({ ok: true });
        return got;
      };
      const ownerSees = await watch(stack.token);
      expectEvent('audit.read', ownerKind, 'success');
      const auditorSees = await watch(auditor.token);
      expect((await api('POST', '/runners/enrolments', { name: 'watched' })).status).toBe(201);
      expectEvent('runner.enrolment_created', ownerKind, 'success');
      await expectEventually(() => ownerSees.some((e) => e.action === 'runner.enrolment_created'));
      // A fence: the auditor's own org's next event reaches them; nothing of this org came before it.
      expect((await api('GET', '/audit/events?limit=1', undefined, auditor.token)).status).toBe(200);
      await expectEventually(() => auditorSees.some((e) => e.action === 'audit.read'));
      expect(auditorSees.filter((e) => e.orgId !== otherOrg)).toEqual([]);
      expect(pinned(ownerSees)).toEqual([['runner.enrolment_created', ownerKind, 'success']]);

      // Nothing the other org's auditor or the refused member did is in this org's log; this org's own steps are.
      expect(pinned(await logAfter(size))).toEqual(expected.slice(size));
    });
  }

  it('`yoke audit verify --server` checks the live log of the org against its latest checkpoint', async () => {
    const r = await runCli(['audit', 'verify', '--server', stack.url], stack.cliEnv, 60_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/intact|verified|ok/i);
  });
});
