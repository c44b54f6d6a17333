import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AccessRevokedEvent,
  Comment,
  Item,
  PresenceEvent,
  RedeemLinkReply,
  Session,
  SessionAccess,
  SessionShares,
  ShareGrant,
  ShareLink,
  WorkspaceFile,
  WorkspaceListing,
} from '@yoke/protocol';
import type { Socket } from 'socket.io-client';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, type Member, startCollabStack } from './collab-support';

/**
 * Collaboration over the public API, team mode, with real org members (API tokens): shares by invite and by link
 * (role, expiry, use limit), revoking (their open sockets are disconnected at once), co-drive (viewers refused,
 * drivers' turns carry their name), comment threads arriving live, and fork.
 */
describe('collaboration API (team mode)', () => {
  let c: CollabStack;
  let session: Session;
  let bob: Member;
  let carol: Member;
  const ws = tempDir('ws');

  const api: CollabStack['stack']['api'] = (...args) => c.stack.api(...args);

  async function joined(token: string, sessionId: string): Promise<Socket> {
    const s = c.stack.webSocket(token);
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

  async function itemsOf(id: string, token?: string): Promise<Item[]> {
    return (await api<{ items: Item[] }>('GET', `/sessions/${id}/items`, undefined, token)).body.items;
  }

  async function idle(id: string): Promise<void> {
    await expectEventually(
      async () => (await api<Session>('GET', `/sessions/${id}`)).body.status === 'idle',
      60_000,
      200,
    );
  }

  /** Idle with `turns` turns completed: a prompt just accepted (202) may not have started yet, so idle alone is not it. */
  async function turnsDone(id: string, turns: number): Promise<void> {
    await expectEventually(
      async () =>
        (await api<Session>('GET', `/sessions/${id}`)).body.status === 'idle' &&
        (await itemsOf(id)).filter((i) => i.type === 'turn_completed').length === turns,
      60_000,
      200,
    );
  }

  beforeAll(async () => {
    c = await startCollabStack();
    bob = await c.addMember('Bob');
    carol = await c.addMember('Carol');
    c.model.script([
      { match: 'OWNER', steps: [{ text: 'Owner turn answered.' }] },
      { match: 'DRIVER', steps: [{ text: 'Driver turn answered.' }] },
      { match: 'FORKED', steps: [{ text: 'The fork answers.' }] },
    ]);
    session = (
      await api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: ws,
        title: 'Shared work',
        prompt: 'OWNER first',
      })
    ).body;
    await expectEventually(async () => (await itemsOf(session.id)).some((i) => i.type === 'turn_completed'), 60_000);
  });

  afterAll(async () => {
    await c?.stop();
  });

  it('an invite gives a role: a viewer is refused (403) and cannot share; a driver sends and the turn is theirs', async () => {
    // Not shared yet: a plain member cannot see it (404, not 403).
    expect((await api('GET', `/sessions/${session.id}`, undefined, bob.token)).status).toBe(404);
    expect(
      (await api('POST', `/sessions/${session.id}/shares/invites`, { userId: bob.userId, role: 'owner' })).status,
    ).toBe(400);
    const strangerId = '00000000-0000-4000-8000-000000000000';
    const stranger = await api('POST', `/sessions/${session.id}/shares/invites`, {
      userId: strangerId,
      role: 'viewer',
    });
    expect(stranger.status).toBe(400);

    const invited = await api<ShareGrant>('POST', `/sessions/${session.id}/shares/invites`, {
      userId: bob.userId,
      role: 'viewer',
    });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ role: 'viewer', user: { id: bob.userId, name: 'Bob' }, canApprove: false });
    const access = await api<SessionAccess>('GET', `/sessions/${session.id}/access`, undefined, bob.token);
    expect(access.body).toMatchObject({ role: 'viewer', canDrive: false, canComment: false, canShare: false });

    const refused = await api<{ code: string }>(
      'POST',
      `/sessions/${session.id}/messages`,
      { text: 'DRIVER as a viewer' },
      bob.token,
    );
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('auth.forbidden');
    // Nor may a viewer switch the session's harness or model (only who may drive may), whatever the harness named.
    for (const harness of ['codex', 'emacs']) {
      const switched = await api<{ code: string }>(
        'POST',
        `/sessions/${session.id}/messages`,
        { text: 'SWITCH as a viewer', harness, model: 'gpt-5' },
        bob.token,
      );
      expect(switched.status).toBe(403);
    }
    expect((await api<Session>('GET', `/sessions/${session.id}`)).body).toMatchObject({
      harness: session.harness,
      model: session.model,
    });
    expect((await api('GET', `/sessions/${session.id}/shares`, undefined, bob.token)).status).toBe(403);
    expect((await api('POST', `/sessions/${session.id}/shares/links`, { role: 'driver' }, bob.token)).status).toBe(403);
    expect(
      (
        await api(
          'POST',
          `/sessions/${session.id}/comments`,
          { anchor: { kind: 'item', seq: 1 }, body: 'x' },
          bob.token,
        )
      ).status,
    ).toBe(403);
    const before = (await itemsOf(session.id)).length;

    // Re-invited as a driver (one live grant per person): the turn runs under Bob's name.
    await api('POST', `/sessions/${session.id}/shares/invites`, { userId: bob.userId, role: 'driver' });
    const shares = (await api<SessionShares>('GET', `/sessions/${session.id}/shares`)).body;
    expect(shares.grants.filter((g) => g.user?.id === bob.userId).map((g) => g.role)).toEqual(['driver']);
    const sent = await api('POST', `/sessions/${session.id}/messages`, { text: 'DRIVER now' }, bob.token);
    expect(sent.status).toBe(202);
    await expectEventually(
      async () =>
        (await itemsOf(session.id)).some((i) => i.type === 'agent_message' && i.text === 'Driver turn answered.'),
      60_000,
    );
    const items = await itemsOf(session.id, bob.token);
    const mine = items.slice(before).find((i) => i.type === 'user_message');
    expect(mine?.actor).toEqual({ id: bob.userId, name: 'Bob' });
    await idle(session.id);
  });

  it("a member's session list follows a session from the moment it is shared with them until the share ends", async () => {
    const listening = async (token: string) => {
      const socket = c.stack.webSocket(token);
      const updates: Session[] = [];
      socket.on('session.updated', (s: Session) => updates.push(s));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => socket.emit('sessions.watch', {}, () => resolve()));
        socket.once('connect_error', reject);
      });
      return { socket, updates };
    };
    const carolList = await listening(carol.token);
    const other = (
      await api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: ws,
        title: 'Shared later',
        prompt: 'OWNER',
      })
    ).body;
    await turnsDone(other.id, 1);
    const about = (l: { updates: Session[] }) => l.updates.filter((u) => u.id === other.id);
    expect(about(carolList)).toEqual([]); // not hers to see yet

    expect(
      (await api('POST', `/sessions/${other.id}/shares/invites`, { userId: carol.userId, role: 'viewer' })).status,
    ).toBe(201);
    // It appears at once, without a reload; a socket she opens later follows it too.
    await expectEventually(() => about(carolList).some((u) => u.title === 'Shared later'));
    const carolLater = await listening(carol.token);
    expect((await api('POST', `/sessions/${other.id}/messages`, { text: 'OWNER again' })).status).toBe(202);
    await turnsDone(other.id, 2);
    // Both follow the turn to its end: the last copy each gets is the idle session with every item of the turn.
    const after = (await api<Session>('GET', `/sessions/${other.id}`)).body;
    for (const l of [carolList, carolLater]) {
      await expectEventually(() => {
        const last = about(l).at(-1);
        return last?.status === 'idle' && last.lastSeq === after.lastSeq;
      });
    }

    const grant = (await api<SessionShares>('GET', `/sessions/${other.id}/shares`)).body.grants.find(
      (g) => g.user?.id === carol.userId,
    )!;
    expect((await api('DELETE', `/sessions/${other.id}/shares/grants/${grant.id}`)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    const seen = [about(carolList).length, about(carolLater).length];
    expect((await api('POST', `/sessions/${other.id}/messages`, { text: 'OWNER once more' })).status).toBe(202);
    await turnsDone(other.id, 3);
    await new Promise((r) => setTimeout(r, 300));
    expect([about(carolList).length, about(carolLater).length]).toEqual(seen);
    carolList.socket.close();
    carolLater.socket.close();
  });

  it('a link carries a role, a use limit and an expiry; redeeming it gives the role; bad bodies change nothing', async () => {
    expect(
      (await api('POST', `/sessions/${session.id}/shares/links`, { role: 'commenter', expiresInSeconds: 5 })).status,
    ).toBe(400);
    expect((await api('POST', `/sessions/${session.id}/shares/links`, { role: 'owner' })).status).toBe(400);
    expect((await api('POST', `/sessions/${session.id}/shares/links`, { role: 'viewer', maxUses: 0 })).status).toBe(
      400,
    );
    expect((await api<SessionShares>('GET', `/sessions/${session.id}/shares`)).body.links).toEqual([]);

    const link = await api<ShareLink>('POST', `/sessions/${session.id}/shares/links`, {
      role: 'commenter',
      maxUses: 1,
      expiresInSeconds: 3600,
    });
    expect(link.status).toBe(201);
    expect(link.body).toMatchObject({ role: 'commenter', maxUses: 1, uses: 0 });
    expect(link.body.token).toMatch(/^yks_/);
    expect(Date.parse(link.body.expiresAt!) - Date.now()).toBeGreaterThan(3500_000);

    expect((await api('POST', '/share-links/redeem', { token: 'yks_nope' }, carol.token)).status).toBe(404);
    // Carol's session list is open while she redeems: the session appears in it without a reload.
    const carolList = c.stack.webSocket(carol.token);
    const carolUpdates: Session[] = [];
    carolList.on('session.updated', (u: Session) => carolUpdates.push(u));
    await new Promise<void>((resolve) =>
      carolList.once('connect', () => carolList.emit('sessions.watch', {}, resolve)),
    );
    const redeemed = await api<RedeemLinkReply>('POST', '/share-links/redeem', { token: link.body.token }, carol.token);
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toEqual({ sessionId: session.id, role: 'commenter', credential: null });
    await expectEventually(() => carolUpdates.some((u) => u.id === session.id));
    carolList.close();
    const access = await api<SessionAccess>('GET', `/sessions/${session.id}/access`, undefined, carol.token);
    expect(access.body).toMatchObject({ role: 'commenter', canComment: true, canDrive: false });
    // Used up: the next person gets 404 and no grant.
    const dave = await c.addMember('Dave');
    expect((await api('POST', '/share-links/redeem', { token: link.body.token }, dave.token)).status).toBe(404);
    expect((await api('GET', `/sessions/${session.id}`, undefined, dave.token)).status).toBe(404);
    const listed = (await api<SessionShares>('GET', `/sessions/${session.id}/shares`)).body;
    expect(listed.links.map((l) => ({ id: l.id, uses: l.uses, token: l.token }))).toEqual([
      { id: link.body.id, uses: 1, token: undefined },
    ]);

    // An expired link answers 404.
    const short = (
      await api<ShareLink>('POST', `/sessions/${session.id}/shares/links`, { role: 'viewer', expiresInSeconds: 60 })
    ).body;
    await c.sql(`UPDATE session_links SET expires_at = now() - interval '1 second' WHERE id = $1`, [short.id]);
    expect((await api('POST', '/share-links/redeem', { token: short.token }, dave.token)).status).toBe(404);
    expect((await api('GET', `/sessions/${session.id}`, undefined, dave.token)).status).toBe(404);
  });

  it('comments: a thread on a file line range, a reply and resolve arrive live for everyone in the session', async () => {
    const owner = await joined(c.stack.token!, session.id);
    const heard: Comment[] = [];
    owner.on('comment.updated', (cm: Comment) => heard.push(cm));
    const presence: PresenceEvent[] = [];
    owner.on('presence.updated', (p: PresenceEvent) => presence.push(p));
    const carolSocket = await joined(carol.token, session.id);
    await expectEventually(() =>
      presence.some((p) => p.viewers.some((v) => v.actor.id === carol.userId && v.role === 'commenter')),
    );

    const bad = await api(
      'POST',
      `/sessions/${session.id}/comments`,
      { anchor: { kind: 'file', path: 'out.txt', lineStart: 3, lineEnd: 1, seq: 1 }, body: 'backwards' },
      carol.token,
    );
    expect(bad.status).toBe(400);
    const root = await api<Comment>(
      'POST',
      `/sessions/${session.id}/comments`,
      { anchor: { kind: 'file', path: 'out.txt', lineStart: 1, lineEnd: 2, seq: 3 }, body: 'Why two lines?' },
      carol.token,
    );
    expect(root.status).toBe(201);
    expect(root.body).toMatchObject({ threadId: null, author: { id: carol.userId, name: 'Carol' }, resolved: false });
    await expectEventually(() => heard.some((h) => h.id === root.body.id));

    const reply = await api<Comment>('POST', `/sessions/${session.id}/comments`, {
      threadId: root.body.id,
      body: 'Because the spec says so.',
    });
    expect(reply.body.threadId).toBe(root.body.id);
    expect(
      (await api('POST', `/sessions/${session.id}/comments`, { threadId: reply.body.id, body: 'nested' })).status,
    ).toBe(404);
    const resolved = await api<Comment>(
      'PATCH',
      `/sessions/${session.id}/comments/${root.body.id}`,
      { resolved: true },
      carol.token,
    );
    expect(resolved.body).toMatchObject({ resolved: true, resolvedBy: { id: carol.userId, name: 'Carol' } });
    await expectEventually(() => heard.some((h) => h.id === root.body.id && h.resolved));

    const onItem = await api<Comment>('POST', `/sessions/${session.id}/comments`, {
      anchor: { kind: 'item', seq: 2 },
      body: 'Nice answer.',
    });
    expect(onItem.status).toBe(201);
    const onFile = (
      await api<Comment[]>('GET', `/sessions/${session.id}/comments?path=out.txt`, undefined, carol.token)
    ).body;
    expect(onFile.map((x) => x.body)).toEqual(['Why two lines?', 'Because the spec says so.']);
    const all = (await api<Comment[]>('GET', `/sessions/${session.id}/comments`)).body;
    expect(all).toHaveLength(3);
    // Another session's id with this comment: not found.
    owner.close();
    carolSocket.close();
  });

  it('workspace files, served by the runner: listed and read by a commenter, confined to the workspace', async () => {
    mkdirSync(join(ws, 'sub'), { recursive: true });
    writeFileSync(join(ws, 'out.txt'), 'first line\nsecond line\n');
    writeFileSync(join(ws, 'sub', 'a.txt'), 'nested');
    symlinkSync('/etc/hostname', join(ws, 'escape'));
    const root = await api<WorkspaceListing>('GET', `/sessions/${session.id}/files`, undefined, carol.token);
    expect(root.status).toBe(200);
    expect(root.body.entries.map((e) => [e.name, e.kind])).toEqual(
      expect.arrayContaining([
        ['out.txt', 'file'],
        ['sub', 'dir'],
      ]),
    );
    const sub = await api<WorkspaceListing>('GET', `/sessions/${session.id}/files?path=sub`, undefined, carol.token);
    expect(sub.body.entries.map((e) => e.path)).toEqual(['sub/a.txt']);
    const file = await api<WorkspaceFile>(
      'GET',
      `/sessions/${session.id}/files/content?path=out.txt`,
      undefined,
      carol.token,
    );
    expect(file.body).toMatchObject({ path: 'out.txt', content: 'first line\nsecond line\n', isBinary: false });
    const escape = await api<{ code: string }>('GET', `/sessions/${session.id}/files/content?path=escape`);
    expect([escape.status, escape.body.code]).toEqual([404, 'workspace.not_found']);
    expect((await api('GET', `/sessions/${session.id}/files/content?path=../etc/passwd`)).status).toBe(400);
    expect((await api('GET', `/sessions/${session.id}/files/content?path=nope.txt`)).status).toBe(404);
    const dave = await c.addMember('Dave2');
    expect((await api('GET', `/sessions/${session.id}/files`, undefined, dave.token)).status).toBe(404);
  });

  it('revoking a link disconnects the open sockets of whoever came through it at once, and the link then 404s', async () => {
    const link = (await api<ShareLink>('POST', `/sessions/${session.id}/shares/links`, { role: 'viewer' })).body;
    const erin = await c.addMember('Erin');
    expect((await api('POST', '/share-links/redeem', { token: link.token }, erin.token)).status).toBe(200);
    const socket = await joined(erin.token, session.id);
    const revoked: AccessRevokedEvent[] = [];
    socket.on('access.revoked', (e: AccessRevokedEvent) => revoked.push(e));
    const disconnected = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
    const started = Date.now();
    expect((await api('DELETE', `/sessions/${session.id}/shares/links/${link.id}`)).status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    expect([...new Set(revoked.map((r) => r.sessionId))]).toEqual([session.id]);
    expect((await api('GET', `/sessions/${session.id}`, undefined, erin.token)).status).toBe(404);
    expect((await api('POST', '/share-links/redeem', { token: link.token }, erin.token)).status).toBe(404);
    expect((await api('DELETE', `/sessions/${session.id}/shares/links/${link.id}`)).status).toBe(404);

    // Revoking an invite does the same for that person.
    const bobSocket = await joined(bob.token, session.id);
    const bobGone = new Promise<void>((resolve) => bobSocket.on('disconnect', () => resolve()));
    const grant = (await api<SessionShares>('GET', `/sessions/${session.id}/shares`)).body.grants.find(
      (g) => g.user?.id === bob.userId,
    )!;
    expect((await api('DELETE', `/sessions/${session.id}/shares/grants/${grant.id}`)).status).toBe(204);
    await bobGone;
    expect((await api('POST', `/sessions/${session.id}/messages`, { text: 'DRIVER again' }, bob.token)).status).toBe(
      404,
    );
  });

  it('a guest without an account opens a link: its one session with its role, live, and nothing else, until it is revoked', async () => {
    const link = (await api<ShareLink>('POST', `/sessions/${session.id}/shares/links`, { role: 'driver' })).body;
    expect((await api('POST', '/share-links/redeem-guest', { token: 'yks_nope', guestName: 'Gail' })).status).toBe(404);
    const redeemed = await api<RedeemLinkReply>('POST', '/share-links/redeem-guest', {
      token: link.token,
      guestName: 'Gail',
    });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({ sessionId: session.id, role: 'driver' });
    const gail = redeemed.body.credential!;
    expect(gail).toMatch(/^ykg_/);

    // Its session, with the link's role.
    expect((await api<Session>('GET', `/sessions/${session.id}`, undefined, gail)).body.id).toBe(session.id);
    expect((await api<SessionAccess>('GET', `/sessions/${session.id}/access`, undefined, gail)).body).toMatchObject({
      role: 'driver',
      canDrive: true,
      canShare: false,
      isGuest: true,
    });
    const listed = await api<{ sessions: Session[] }>('GET', '/sessions', undefined, gail);
    expect(listed.body.sessions.map((s) => s.id)).toEqual([session.id]);
    // Nothing else: other sessions are not found, everything not meant for guests is refused.
    const other = (await api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: ws, title: 'Private' })).body;
    expect((await api('GET', `/sessions/${other.id}`, undefined, gail)).status).toBe(404);
    expect((await api('GET', `/sessions/${other.id}/items`, undefined, gail)).status).toBe(404);
    for (const [method, path, body] of [
      ['POST', '/sessions', { agentYaml: AGENT }],
      ['GET', '/runners', undefined],
      ['GET', '/org/members', undefined],
      ['GET', '/approvals', undefined],
      ['GET', `/sessions/${session.id}/shares`, undefined],
      ['POST', `/sessions/${session.id}/shares/links`, { role: 'viewer' }],
      ['POST', `/sessions/${session.id}/fork`, { atSeq: 1 }],
      ['POST', '/share-links/redeem', { token: link.token }],
      ['GET', '/tokens', undefined],
    ] as const) {
      expect([method, path, (await api(method, path, body, gail)).status]).toEqual([method, path, 403]);
    }
    expect((await api('GET', `/sessions/${session.id}`, undefined, 'ykg_forged')).status).toBe(401);

    // Live over the socket, driving under the guest's name.
    const socket = await joined(gail, session.id);
    const refused = await socket.timeout(5_000).emitWithAck('session.join', { sessionId: other.id, afterSeq: 0 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'session.not_found' } });
    const live: Item[] = [];
    socket.on('session.items', (items: Item[]) => live.push(...items));
    expect((await api('POST', `/sessions/${session.id}/messages`, { text: 'DRIVER as a guest' }, gail)).status).toBe(
      202,
    );
    await expectEventually(() => live.some((i) => i.type === 'turn_completed'), 60_000);
    expect(live.find((i) => i.type === 'user_message')?.actor?.name).toBe('Gail');
    await idle(session.id);

    // Revoked: the socket closes at once and the credential opens nothing any more.
    const gone = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
    expect((await api('DELETE', `/sessions/${session.id}/shares/links/${link.id}`)).status).toBe(204);
    expect(await gone).toBe('io server disconnect');
    expect((await api('GET', `/sessions/${session.id}`, undefined, gail)).status).toBe(401);
  });

  it('fork at an item: a new session of the forker with the history up to there, another model; the original is untouched', async () => {
    await api('POST', `/sessions/${session.id}/shares/invites`, { userId: bob.userId, role: 'viewer' });
    const original = await itemsOf(session.id);
    const firstAnswer = original.find((i) => i.type === 'agent_message')!;
    expect((await api('POST', `/sessions/${session.id}/fork`, { seq: 9999 }, bob.token)).status).toBe(400);
    const forked = await api<Session>(
      'POST',
      `/sessions/${session.id}/fork`,
      { seq: firstAnswer.seq, model: 'claude-haiku-4-5', workspace: tempDir('fork-ws') },
      bob.token,
    );
    expect(forked.status).toBe(201);
    expect(forked.body).toMatchObject({
      ownerId: bob.userId,
      model: 'claude-haiku-4-5',
      forkedFrom: { sessionId: session.id, seq: firstAnswer.seq },
    });
    expect(forked.body.id).not.toBe(session.id);
    const copied = await itemsOf(forked.body.id, bob.token);
    expect(copied.map((i) => [i.seq, i.type])).toEqual(
      original.filter((i) => i.seq <= firstAnswer.seq).map((i) => [i.seq, i.type]),
    );
    // The fork runs on a runner: Bob drives it (he owns it).
    expect((await api('POST', `/sessions/${forked.body.id}/messages`, { text: 'FORKED go' }, bob.token)).status).toBe(
      202,
    );
    await expectEventually(
      async () =>
        (await itemsOf(forked.body.id, bob.token)).some(
          (i) => i.type === 'agent_message' && i.text === 'The fork answers.',
        ),
      60_000,
    );
    const after = await itemsOf(forked.body.id, bob.token);
    expect(after.map((i) => i.seq)).toEqual(after.map((_, k) => k + 1));
    expect(await itemsOf(session.id)).toEqual(original);
    expect(c.model.requests.some((r) => JSON.stringify(r.body).includes('claude-haiku-4-5'))).toBe(true);
  });

  it("another org cannot reach the session's shares, comments, files or fork (404), and its attempt spends no link use", async () => {
    const other = await api<{ token: { token: string } }>('POST', '/orgs', { slug: 'rival-co', name: 'Rival' });
    expect(other.status).toBe(201);
    const rival = other.body.token.token;
    const link = (await api<ShareLink>('POST', `/sessions/${session.id}/shares/links`, { role: 'viewer', maxUses: 1 }))
      .body;
    expect((await api('POST', '/share-links/redeem', { token: link.token }, rival)).status).toBe(404);
    expect(
      (await api<SessionShares>('GET', `/sessions/${session.id}/shares`)).body.links.find((l) => l.id === link.id),
    ).toMatchObject({ uses: 0 });
    for (const [method, path, body] of [
      ['GET', `/sessions/${session.id}/access`, undefined],
      ['GET', `/sessions/${session.id}/comments`, undefined],
      ['POST', `/sessions/${session.id}/comments`, { anchor: { kind: 'item', seq: 1 }, body: 'x' }],
      ['GET', `/sessions/${session.id}/files`, undefined],
      ['GET', `/sessions/${session.id}/shares`, undefined],
      ['POST', `/sessions/${session.id}/shares/links`, { role: 'driver' }],
      ['POST', `/sessions/${session.id}/fork`, { seq: 1 }],
    ] as const) {
      expect([method, path, (await api(method, path, body, rival)).status]).toEqual([method, path, 404]);
    }
    // The link still works for the org it belongs to.
    const fred = await c.addMember('Fred');
    expect((await api('POST', '/share-links/redeem', { token: link.token }, fred.token)).status).toBe(200);
  });
});
