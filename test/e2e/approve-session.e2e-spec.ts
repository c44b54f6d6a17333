import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Approval, Item, Session } from '@yoke/protocol';
import { type FakeModel, startFakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const agent = (allowAlways: string) => `name: helper
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
policies:
  - { type: ask_on_tools, name: ask-shell, tools: [shell]${allowAlways} }
`;

const shell = (command: string) => ({ toolCalls: [{ name: 'shell', input: { command } }] });

/**
 * "Always allow in this session" through the whole system (server, runner, the yoke harness against the fake model):
 * a shell command asked once and approved with `approve_session` runs again in the next turn without a new approval,
 * while a different command still asks; where the policy says `allow_always: false` the server refuses that answer.
 * The choice is orthogonal to the deployment shape, so this runs in the first mode of MODES only.
 */
describe.each(MODES.slice(0, 1))('approve for the rest of the session (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack(mode);
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key' } });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  const items = async (id: string) =>
    (await stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items?afterSeq=0&limit=1000`)).body.items;
  const approvals = async (id: string) => (await stack.api<Approval[]>('GET', `/sessions/${id}/approvals`)).body;
  const turnsEnded = async (id: string) =>
    (await items(id)).filter((i) => i.type === 'turn_completed' || i.type === 'turn_failed').length;

  async function pending(id: string, count: number): Promise<Approval> {
    let found: Approval | undefined;
    await expectEventually(async () => {
      const all = await approvals(id);
      found = all.length === count ? all.find((a) => a.status === 'pending') : undefined;
      return found !== undefined;
    });
    return found!;
  }

  it('approved for the session: the same command runs again next turn unasked; another command still asks', async () => {
    model.script([
      { match: 'ALWAYS-ONE', steps: [shell('echo one >> log.txt'), { text: 'Logged one.' }] },
      {
        match: 'ALWAYS-TWO',
        steps: [shell('echo one >> log.txt'), shell('echo two >> log.txt'), { text: 'Logged both.' }],
      },
    ]);
    const ws = tempDir('yoke-ws');
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: agent(''),
      prompt: 'ALWAYS-ONE: log one',
      workspace: ws,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;

    const first = await pending(id, 1);
    expect(first.options).toEqual(['approve', 'approve_session', 'deny']);
    const request = (await items(id)).find((i) => i.type === 'approval_request');
    expect(request).toMatchObject({ approvalId: first.approvalId, canApproveForSession: true });
    const decided = await stack.api<Approval>('POST', `/sessions/${id}/approvals/${first.approvalId}`, {
      decision: 'approve_session',
    });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'approved' });
    await expectEventually(async () => (await turnsEnded(id)) === 1);
    expect((await items(id)).find((i) => i.type === 'approval_decision')).toMatchObject({
      approvalId: first.approvalId,
      decision: 'approve_session',
    });

    // Next turn: the same command runs without a question; a different one asks.
    expect((await stack.api('POST', `/sessions/${id}/messages`, { text: 'ALWAYS-TWO: log both' })).status).toBe(202);
    const second = await pending(id, 2);
    expect(second.callId).not.toBe(first.callId);
    const asked = (await items(id)).filter((i) => i.type === 'approval_request');
    const secondCall = (await items(id)).find((i) => i.type === 'tool_call' && i.callId === second.callId);
    expect(secondCall).toMatchObject({ input: { command: 'echo two >> log.txt' } });
    expect(asked).toHaveLength(2);
    expect(readFileSync(join(ws, 'log.txt'), 'utf8')).toBe('one\none\n');
    expect(
      (await stack.api('POST', `/sessions/${id}/approvals/${second.approvalId}`, { decision: 'approve' })).status,
    ).toBe(200);
    await expectEventually(async () => (await turnsEnded(id)) === 2);
    const log = await items(id);
    expect(log.find((i) => i.type === 'turn_failed')).toBeUndefined();
    expect(readFileSync(join(ws, 'log.txt'), 'utf8')).toBe('one\none\ntwo\n');
    expect(log.filter((i) => i.type === 'approval_request')).toHaveLength(2);
    expect(
      log.find(
        (i) =>
          i.type === 'policy_decision' &&
          i.verdict === 'allow' &&
          i.reasons.some((r) => r.includes('allowed for this session by an earlier approval')),
      ),
    ).toBeDefined();
  });

  it('allow_always: false: the request offers no session-wide answer and the server refuses one, changing nothing', async () => {
    model.script([{ match: 'STRICT', steps: [shell('echo strict > s.txt'), { text: 'Done or not.' }] }]);
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: agent(', allow_always: false'),
      prompt: 'STRICT: write it',
      workspace: tempDir('yoke-ws'),
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const ask = await pending(id, 1);
    expect(ask.options).toEqual(['approve', 'deny']);
    expect((await items(id)).find((i) => i.type === 'approval_request')).toMatchObject({
      canApproveForSession: false,
    });

    const refused = await stack.api<{ code: string; message: string }>(
      'POST',
      `/sessions/${id}/approvals/${ask.approvalId}`,
      { decision: 'approve_session' },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('approval.option_not_offered');
    expect(refused.body.message).toMatch(/not offered/);
    expect((await approvals(id)).find((a) => a.approvalId === ask.approvalId)).toMatchObject({
      status: 'pending',
      decidedBy: null,
    });

    // The approval is still open to a plain answer.
    expect((await stack.api('POST', `/sessions/${id}/approvals/${ask.approvalId}`, { decision: 'deny' })).status).toBe(
      200,
    );
    await expectEventually(async () => (await turnsEnded(id)) === 1);
    expect((await items(id)).find((i) => i.type === 'approval_decision')).toMatchObject({ decision: 'deny' });
  });
});
