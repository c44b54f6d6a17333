import { randomUUID } from 'node:crypto';
import type { AuditEventsPage, InputAccepted, Item, Session, SessionPage } from '@yoke/protocol';
import type { Socket } from 'socket.io-client';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, type Member, startCollabStack } from './collab-support';

/**
 * Archiving a session over the public API (team mode): only its owner may, only while it rests; it leaves the default
 * list (found again with `includeArchived` and by search), takes no prompt, and every watcher sees it go. Restoring
 * brings it back to idle and its runner answers it again. Each change is audited once; a refusal changes nothing.
 */
describe('archiving and restoring a session (team mode)', () => {
  let c: CollabStack;
  let session: Session;
  let driver: Member;
  let stranger: string;
  let watcher: Socket;
  const updates: Session[] = [];
  const api: CollabStack['stack']['api'] = (...args) => c.stack.api(...args);

  async function itemsOf(id: string): Promise<Item[]> {
    return (await api<{ items: Item[] }>('GET', `/sessions/${id}/items`)).body.items;
  }
  async function statusOf(id: string): Promise<string> {
    return (await api<Session>('GET', `/sessions/${id}`)).body.status;
  }
  async function listed(query: string): Promise<string[]> {
    return (await api<SessionPage>('GET', `/sessions?${query}`)).body.sessions.map((s) => s.id);
  }
  async function audited(action: string): Promise<unknown[]> {
    const page = await api<AuditEventsPage>('GET', `/audit/events?action=${action}&sessionId=${session.id}`);
    return page.body.events.map((v) => [v.event.target.id, v.event.details?.status]);
  }

  beforeAll(async () => {
    c = await startCollabStack();
    c.model.script([
      { match: 'FIRST', steps: [{ text: 'First answered.' }] },
      { match: 'AGAIN', steps: [{ text: 'Answered after the restore.' }] },
    ]);
    session = (
      await api<Session>('POST', '/sessions', {
        agentYaml: AGENT,
        workspace: tempDir('ws'),
        prompt: 'FIRST',
        title: 'Migrate the billing cron',
      })
    ).body;
    await expectEventually(async () => (await itemsOf(session.id)).some((i) => i.type === 'turn_completed'), 60_000);
    await expectEventually(async () => (await statusOf(session.id)) === 'idle');
    driver = await c.addMember('Dora');
    const invited = await api('POST', `/sessions/${session.id}/shares/invites`, {
      userId: driver.userId,
      role: 'driver',
    });
    expect(invited.status).toBe(201);
    stranger = await c.addStranger();
    watcher = c.stack.webSocket();
    watcher.on('session.updated', (s: Session) => s.id === session.id && updates.push(s));
    await new Promise<void>((resolve) => watcher.once('connect', () => watcher.emit('sessions.watch', {}, resolve)));
  }, 180_000);

  afterAll(async () => {
    watcher?.close();
    await c?.stop();
  });

  it('is refused to anyone but the owner, and for a session that does not rest; nothing changes', async () => {
    const byDriver = await api<{ code: string }>('POST', `/sessions/${session.id}/archive`, undefined, driver.token);
    expect([byDriver.status, byDriver.body.code]).toEqual([403, 'auth.forbidden']);
    for (const path of [`/sessions/${session.id}/archive`, `/sessions/${session.id}/restore`]) {
      const foreign = await api<{ code: string }>('POST', path, undefined, stranger);
      expect([path, foreign.status, foreign.body.code]).toEqual([path, 404, 'session.not_found']);
    }
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const missing = await api<{ code: string }>('POST', `/sessions/${id}/archive`);
      expect([missing.status, missing.body.code]).toEqual([404, 'session.not_found']);
    }

    // A turn in flight (as the runner would record it) or a prompt waiting for the runner: 409, and why.
    await c.sql(`UPDATE sessions SET status = 'running' WHERE id = $1`, [session.id]);
    const running = await api<{ code: string; message: string }>('POST', `/sessions/${session.id}/archive`);
    expect([running.status, running.body.code]).toEqual([409, 'session.busy']);
    expect(running.body.message).toMatch(/running: cancel it first/);
    await c.sql(`UPDATE sessions SET status = 'idle' WHERE id = $1`, [session.id]);

    await c.runner.proc.kill('SIGTERM');
    await expectEventually(async () => !(await api<Session>('GET', `/sessions/${session.id}`)).body.runnerOnline);
    const queued = await api<InputAccepted>('POST', `/sessions/${session.id}/messages`, { text: 'QUEUED for later' });
    expect([queued.status, queued.body.delivered]).toEqual([202, false]);
    const waiting = await api<{ code: string; message: string }>('POST', `/sessions/${session.id}/archive`);
    expect([waiting.status, waiting.body.code]).toEqual([409, 'session.busy']);
    expect(waiting.body.message).toMatch(/1 prompt\(s\) wait/);
    expect(await statusOf(session.id)).toBe('idle');
    expect(await audited('session.archived')).toEqual([]);

    // Withdrawn, the session rests again; the runner comes back for what follows.
    expect((await api('DELETE', `/sessions/${session.id}/queued/${queued.body.inboxId}`)).status).toBe(204);
    await c.runner.restart();
    await expectEventually(async () => (await api<Session>('GET', `/sessions/${session.id}`)).body.runnerOnline);
  }, 120_000);

  it('archives: out of the default list, found with includeArchived and by search, no prompt taken, audited once', async () => {
    const archived = await api<Session>('POST', `/sessions/${session.id}/archive`);
    expect([archived.status, archived.body.status]).toEqual([200, 'archived']);
    await expectEventually(() => updates.at(-1)?.status === 'archived');

    expect(await listed('limit=200')).not.toContain(session.id);
    expect(await listed('limit=200&includeArchived=true')).toContain(session.id);
    expect(await listed('includeArchived=true&q=billing%20CRON')).toEqual([session.id]);
    expect(await listed('q=billing%20cron')).toEqual([]);
    // The member it is shared with reads it still (history is kept), but cannot prompt it.
    expect((await api<Session>('GET', `/sessions/${session.id}`, undefined, driver.token)).body.status).toBe(
      'archived',
    );
    const prompt = await api<{ code: string }>('POST', `/sessions/${session.id}/messages`, { text: 'AGAIN please' });
    expect([prompt.status, prompt.body.code]).toEqual([409, 'session.archived']);

    // Archiving again changes nothing and records nothing.
    const again = await api<Session>('POST', `/sessions/${session.id}/archive`);
    expect([again.status, again.body.status, again.body.updatedAt]).toEqual([200, 'archived', archived.body.updatedAt]);
    expect(await audited('session.archived')).toEqual([[session.id, 'idle']]);
  });

  it('restores to idle; the runner answers it again; audited once', async () => {
    const byDriver = await api<{ code: string }>('POST', `/sessions/${session.id}/restore`, undefined, driver.token);
    expect([byDriver.status, byDriver.body.code]).toEqual([403, 'auth.forbidden']);
    expect(await statusOf(session.id)).toBe('archived');

    const restored = await api<Session>('POST', `/sessions/${session.id}/restore`);
    expect([restored.status, restored.body.status]).toEqual([200, 'idle']);
    await expectEventually(() => updates.at(-1)?.status === 'idle');
    expect(await listed('q=billing')).toEqual([session.id]);
    expect((await api<Session>('POST', `/sessions/${session.id}/restore`)).body.updatedAt).toBe(
      restored.body.updatedAt,
    );
    expect(await audited('session.restored')).toEqual([[session.id, 'archived']]);

    const prompt = await api<InputAccepted>('POST', `/sessions/${session.id}/messages`, { text: 'AGAIN please' });
    expect(prompt.status).toBe(202);
    await expectEventually(
      async () =>
        (await itemsOf(session.id)).some(
          (i) => i.type === 'agent_message' && i.text.includes('Answered after the restore.'),
        ),
      60_000,
    );
  }, 90_000);
});
