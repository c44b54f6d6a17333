import { randomUUID } from 'node:crypto';
import type {
  AuditEventsPage,
  InputAccepted,
  Item,
  QueueChangedEvent,
  QueuedPromptList,
  Session,
} from '@yoke/protocol';
import type { Socket } from 'socket.io-client';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { AGENT, type CollabStack, type Member, startCollabStack } from './collab-support';

/**
 * Prompts queued for an offline runner, over the public API (team mode): listed for whoever may view the session,
 * withdrawn by whoever may drive it (audited, every viewer told live), never delivered once withdrawn, and no longer
 * withdrawable once the runner has them. A viewer is refused, another org's owner meets 404.
 */
describe('queued prompts (team mode)', () => {
  let c: CollabStack;
  let session: Session;
  let viewer: Member;
  let stranger: string;
  let watcher: Socket;
  const changes: QueueChangedEvent[] = [];
  const api: CollabStack['stack']['api'] = (...args) => c.stack.api(...args);

  async function itemsOf(id: string): Promise<Item[]> {
    return (await api<{ items: Item[] }>('GET', `/sessions/${id}/items`)).body.items;
  }

  /** The user prompts the fake model was sent, in every request so far. */
  function promptsSeen(): string {
    return c.model.requests.map((r) => JSON.stringify(r.body)).join('\n');
  }

  beforeAll(async () => {
    c = await startCollabStack();
    c.model.script([
      { match: 'FIRST', steps: [{ text: 'First answered.' }] },
      { match: 'KEEP', steps: [{ text: 'The kept prompt is answered.' }] },
      { match: 'DROP', steps: [{ text: 'The withdrawn prompt must never be answered.' }] },
    ]);
    session = (await api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), prompt: 'FIRST' }))
      .body;
    await expectEventually(async () => (await itemsOf(session.id)).some((i) => i.type === 'turn_completed'), 60_000);
    viewer = await c.addMember('Vera');
    expect(
      (await api('POST', `/sessions/${session.id}/shares/invites`, { userId: viewer.userId, role: 'viewer' })).status,
    ).toBe(201);
    stranger = await c.addStranger();
    watcher = c.stack.webSocket();
    watcher.on('session.queue_changed', (e: QueueChangedEvent) => changes.push(e));
    await new Promise<void>((resolve, reject) => {
      watcher.once('connect', () =>
        watcher.emit('session.join', { sessionId: session.id, afterSeq: 0 }, (r: { ok: boolean; error?: unknown }) =>
          r.ok ? resolve() : reject(new Error(JSON.stringify(r.error))),
        ),
      );
    });
  }, 180_000);

  afterAll(async () => {
    watcher?.close();
    await c?.stop();
  });

  it('lists, withdraws and refuses as the rules say; only the kept prompt is delivered when the runner is back', async () => {
    await c.runner.proc.kill('SIGTERM');
    await expectEventually(async () => !(await api<Session>('GET', `/sessions/${session.id}`)).body.runnerOnline);

    const keep = await api<InputAccepted>('POST', `/sessions/${session.id}/messages`, { text: 'KEEP this one' });
    const drop = await api<InputAccepted>('POST', `/sessions/${session.id}/messages`, { text: 'DROP this one' });
    expect([keep.status, keep.body.delivered, drop.status, drop.body.delivered]).toEqual([202, false, 202, false]);

    // Listed oldest first, for the owner and for a viewer alike; every viewer saw both arrive.
    const listed = await api<QueuedPromptList>('GET', `/sessions/${session.id}/queued`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((q) => [q.id, q.text, q.erased])).toEqual([
      [keep.body.inboxId, 'KEEP this one', false],
      [drop.body.inboxId, 'DROP this one', false],
    ]);
    expect(listed.body.items[0].actor.id).toBe(c.owner.userId);
    expect(
      (await api<QueuedPromptList>('GET', `/sessions/${session.id}/queued`, undefined, viewer.token)).body.items,
    ).toHaveLength(2);
    await expectEventually(() => changes.filter((e) => e.change === 'queued').length === 2);

    // A viewer may not withdraw; another org's owner cannot even see the session; nothing changed.
    const refused = await api<{ code: string }>(
      'DELETE',
      `/sessions/${session.id}/queued/${drop.body.inboxId}`,
      undefined,
      viewer.token,
    );
    expect([refused.status, refused.body.code]).toEqual([403, 'auth.forbidden']);
    for (const [method, path] of [
      ['GET', `/sessions/${session.id}/queued`],
      ['DELETE', `/sessions/${session.id}/queued/${drop.body.inboxId}`],
    ]) {
      const foreign = await api<{ code: string }>(method, path, undefined, stranger);
      expect([method, foreign.status, foreign.body.code]).toEqual([method, 404, 'session.not_found']);
    }
    for (const inboxId of [randomUUID(), 'not-a-uuid']) {
      const missing = await api<{ code: string }>('DELETE', `/sessions/${session.id}/queued/${inboxId}`);
      expect([missing.status, missing.body.code]).toEqual([404, 'input.not_found']);
    }
    expect((await api<QueuedPromptList>('GET', `/sessions/${session.id}/queued`)).body.items).toHaveLength(2);

    // The owner withdraws one: gone for everyone, audited, and a second withdrawal finds nothing.
    const withdrawn = await api('DELETE', `/sessions/${session.id}/queued/${drop.body.inboxId}`);
    expect(withdrawn.status).toBe(204);
    expect((await api<QueuedPromptList>('GET', `/sessions/${session.id}/queued`)).body.items.map((q) => q.id)).toEqual([
      keep.body.inboxId,
    ]);
    await expectEventually(() =>
      changes.some((e) => e.change === 'withdrawn' && e.id === drop.body.inboxId && e.actor.id === c.owner.userId),
    );
    const again = await api<{ code: string }>('DELETE', `/sessions/${session.id}/queued/${drop.body.inboxId}`);
    expect([again.status, again.body.code]).toEqual([404, 'input.not_found']);
    const audit = await api<AuditEventsPage>(
      'GET',
      `/audit/events?action=session.prompt_withdrawn&sessionId=${session.id}`,
    );
    // The stack's admin acts through an API token: the event names the token, on the owner's behalf.
    expect(
      audit.body.events.map((v) => [v.event.target.id, v.event.outcome, v.event.actor.onBehalfOf ?? v.event.actor.id]),
    ).toEqual([[drop.body.inboxId, 'success', c.owner.userId]]);

    // The runner is back: the kept prompt is delivered and answered, the withdrawn one never reaches the model.
    await c.runner.restart();
    await expectEventually(
      async () =>
        (await itemsOf(session.id)).some(
          (i) => i.type === 'agent_message' && i.text.includes('The kept prompt is answered.'),
        ),
      60_000,
    );
    await expectEventually(() => changes.some((e) => e.change === 'delivered' && e.id === keep.body.inboxId));
    expect((await api<QueuedPromptList>('GET', `/sessions/${session.id}/queued`)).body.items).toEqual([]);
    const items = await itemsOf(session.id);
    const prompts = items.flatMap((i) =>
      i.type === 'user_message' && i.content[0]?.type === 'text' ? [i.content[0].text] : [],
    );
    expect(prompts).toEqual(['FIRST', 'KEEP this one']);
    expect(promptsSeen()).toContain('KEEP this one');
    expect(promptsSeen()).not.toContain('DROP this one');

    // Delivered: too late to withdraw.
    const late = await api<{ code: string }>('DELETE', `/sessions/${session.id}/queued/${keep.body.inboxId}`);
    expect([late.status, late.body.code]).toEqual([409, 'input.already_delivered']);
  });
});
