import type { Approval, EnrolReply, InboxEntry, ItemsAck, Session } from '@yoke/protocol';
import type { Socket } from 'socket.io-client';
import { expectEventually, MODES } from '../support/env';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

/**
 * Approvals on the server: a runner (here a raw /runner socket speaking the protocol) asks; every viewer sees the
 * request; the first human decision wins and reaches the runner once; a second decision is told "already decided".
 */
describe.each(MODES)('approvals (%s mode)', (mode) => {
  let stack: Stack;
  let runner: Socket;
  const inputs: InboxEntry[] = [];

  beforeAll(async () => {
    stack = await startStack(mode);
    const token = await stack.enrolmentToken();
    const enrolled = await stack.api<EnrolReply>('POST', '/runners/enrol', { token, name: 'raw' }, null);
    runner = stack.rawRunnerSocket(enrolled.body.credential);
    runner.on('session.input', (entry: InboxEntry, ack: (r: unknown) => void) => {
      inputs.push(entry);
      ack({ ok: true, applied: true });
    });
    await new Promise<void>((resolve) => runner.on('connect', () => resolve()));
    await runner.emitWithAck('runner.hello', { sessions: [] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('the first decision wins, is broadcast, reaches the runner once; the second gets "already decided"', async () => {
    const s = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT })).body;
    await expectEventually(() => inputs.some((i) => i.sessionId === s.id && i.input.kind === 'start'));
    const viewer = stack.webSocket();
    const updates: Approval[] = [];
    viewer.on('approval.updated', (a: Approval) => updates.push(a));
    await new Promise<void>((resolve) =>
      viewer.on('connect', () => viewer.emit('session.join', { sessionId: s.id, afterSeq: 0 }, () => resolve())),
    );

    const at = new Date().toISOString();
    const ask: ItemsAck = await runner.emitWithAck('session.items', {
      sessionId: s.id,
      items: [
        { seq: 1, turnId: 't1', createdAt: at, type: 'turn_started' },
        {
          seq: 2,
          turnId: 't1',
          createdAt: at,
          type: 'tool_call',
          callId: 'c1',
          tool: 'shell',
          nativeTool: 'shell',
          input: { command: 'git push' },
          status: 'pending',
        },
        {
          seq: 3,
          turnId: 't1',
          createdAt: at,
          type: 'approval_request',
          approvalId: 'ap1',
          callId: 'c1',
          subject: 'tool_call',
          policy: 'push-after-install',
          reason: 'git push after npm install',
          options: ['approve', 'deny'],
        },
      ],
    });
    expect(ask).toEqual({ ok: true, lastSeq: 3 });
    expect((await stack.api<Session>('GET', `/sessions/${s.id}`)).body).toMatchObject({
      status: 'waiting_approval',
      statusReason: 'git push after npm install',
    });
    const listed = await stack.api<Approval[]>('GET', `/sessions/${s.id}/approvals`);
    expect(listed.body).toEqual([
      expect.objectContaining({ approvalId: 'ap1', status: 'pending', policy: 'push-after-install' }),
    ]);
    expect((await stack.api<Approval[]>('GET', '/approvals')).body.map((a) => a.approvalId)).toContain('ap1');

    const [first, second] = await Promise.all(
      [
        stack.api<Approval>('POST', `/sessions/${s.id}/approvals/ap1`, { decision: 'approve' }),
        stack.api<{ code: string; message: string }>('POST', `/sessions/${s.id}/approvals/ap1`, { decision: 'deny' }),
      ].map((p) => p as Promise<{ status: number; body: unknown }>),
    );
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = (first.status === 409 ? first : second).body as { code: string; message: string };
    expect(loser.code).toBe('approval.already_decided');
    expect(loser.message).toMatch(/already (approved|denied)/);

    await expectEventually(() => updates.length === 1);
    const winner = updates[0];
    await expectEventually(() => inputs.filter((i) => i.input.kind === 'approval').length === 1);
    const delivered = inputs.find((i) => i.input.kind === 'approval')!;
    expect(delivered.input).toMatchObject({
      approvalId: 'ap1',
      decision: winner.status === 'approved' ? 'approve' : 'deny',
    });

    // The runner records the decision in the log; the approval keeps the human's decision.
    const decided: ItemsAck = await runner.emitWithAck('session.items', {
      sessionId: s.id,
      items: [
        {
          seq: 4,
          turnId: 't1',
          createdAt: new Date().toISOString(),
          type: 'approval_decision',
          approvalId: 'ap1',
          decision: 'approve',
          actor: { id: 'x', name: 'x' },
        },
      ],
    });
    expect(decided.ok).toBe(true);
    expect((await stack.api<Approval[]>('GET', `/sessions/${s.id}/approvals`)).body[0].status).toBe(winner.status);
    expect((await stack.api<Session>('GET', `/sessions/${s.id}`)).body.status).toBe('running');
  });

  it('refuses unknown approvals and unknown sessions', async () => {
    const s = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT })).body;
    const r = await stack.api<{ code: string }>('POST', `/sessions/${s.id}/approvals/nope`, { decision: 'approve' });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('approval.not_found');
    const bad = await stack.api('POST', `/sessions/${s.id}/approvals/nope`, { decision: 'maybe' });
    expect(bad.status).toBe(400);
  });
});
