import type { ItemDraft } from '@yoke/protocol';
import { sessionActivity, type SessionActivityContext } from './session-activity';

const ctx: SessionActivityContext = {
  orgId: '00000000-0000-4000-8000-000000000001',
  sessionId: '00000000-0000-4000-8000-000000000002',
  ownerId: '00000000-0000-4000-8000-000000000003',
};
const agent = { kind: 'agent', id: ctx.sessionId, onBehalfOf: ctx.ownerId };
const ada = { id: 'u-ada', name: 'Ada' };
let seq = 0;
const at = (over: Partial<ItemDraft> = {}) => ({
  seq: ++seq,
  createdAt: '2025-01-01T00:00:10.000Z',
  turnId: 't1',
  ...over,
});

describe('sessionActivity', () => {
  it('records a prompt with its author, the text as content', () => {
    const [e, ...rest] = sessionActivity(ctx, [
      { ...at({ actor: ada }), type: 'turn_started' },
      { ...at({ actor: ada }), type: 'user_message', content: [{ type: 'text', text: 'fix the build' }] },
    ]);
    expect(rest).toEqual([]);
    expect(e).toEqual({
      orgId: ctx.orgId,
      sessionId: ctx.sessionId,
      turnId: 't1',
      action: 'session.prompt',
      target: { kind: 'session', id: ctx.sessionId },
      actor: { kind: 'user', id: 'u-ada', name: 'Ada' },
      details: { parts: 1 },
      content: 'fix the build',
    });
  });

  it('keeps the parts of a prompt with attached files', () => {
    const parts = [
      { type: 'text' as const, text: 'see' },
      { type: 'file' as const, path: 'a.ts', content: 'x' },
    ];
    const [e] = sessionActivity(ctx, [{ ...at({ actor: ada }), type: 'user_message', content: parts }]);
    expect(e.content).toEqual(parts);
  });

  it('records tool calls as the agent on behalf of the owner, input as content, never in details', () => {
    const input = { command: 'cat ~/.aws/credentials' };
    const [call] = sessionActivity(ctx, [
      { ...at(), type: 'tool_call', callId: 'c1', tool: 'shell', nativeTool: 'Bash', input, status: 'denied' },
    ]);
    expect(call).toMatchObject({
      action: 'tool.call',
      actor: agent,
      target: { kind: 'tool_call', id: 'c1', name: 'Bash' },
      outcome: 'denied',
      details: { callId: 'c1', tool: 'shell', nativeTool: 'Bash', status: 'denied' },
      content: input,
    });
    expect(JSON.stringify(call.details)).not.toContain('credentials');
  });

  it('records tool results and commands with their status; output and argv as content', () => {
    const [result, command, failed] = sessionActivity(ctx, [
      { ...at(), type: 'tool_result', callId: 'c1', output: 'ok', isError: false },
      { ...at(), type: 'command', callId: 'c2', argv: ['ls', '-la'], cwd: '/w', exitCode: 0, output: 'a\nb' },
      { ...at(), type: 'command', callId: 'c3', argv: ['false'], cwd: '/w', exitCode: 1, output: '' },
    ]);
    expect(result).toMatchObject({
      action: 'tool.result',
      outcome: 'success',
      details: { callId: 'c1', isError: false },
      content: 'ok',
    });
    expect(command).toMatchObject({
      action: 'tool.result',
      outcome: 'success',
      details: { callId: 'c2', exitCode: 0 },
      content: { argv: ['ls', '-la'], cwd: '/w', output: 'a\nb' },
    });
    expect(failed).toMatchObject({ outcome: 'failed', details: { exitCode: 1 } });
  });

  it('records policy decisions that are not a plain allow', () => {
    const decision = (verdict: 'allow' | 'deny' | 'ask') =>
      ({
        ...at(),
        type: 'policy_decision',
        action: 'tool_call',
        callId: 'c1',
        verdict,
        policies: ['no-secrets', 'no-push'],
        reasons: ['reads a credential file'],
      }) as ItemDraft;
    const events = sessionActivity(ctx, [decision('allow'), decision('deny'), decision('ask')]);
    expect(events.map((e) => [e.action, e.outcome, e.details?.verdict])).toEqual([
      ['policy.decision', 'denied', 'deny'],
      ['policy.decision', 'success', 'ask'],
    ]);
    expect(events[0]).toMatchObject({
      target: { kind: 'tool_call', id: 'c1' },
      actor: agent,
      details: { policies: 'no-secrets, no-push', action: 'tool_call', callId: 'c1' },
      content: { reasons: ['reads a credential file'] },
    });
  });

  it('attributes a decision on a prompt to its author', () => {
    const [e] = sessionActivity(ctx, [
      {
        ...at({ actor: ada }),
        type: 'policy_decision',
        action: 'prompt',
        verdict: 'deny',
        policies: ['p'],
        reasons: [],
      },
    ]);
    expect(e).toMatchObject({ actor: { kind: 'user', id: 'u-ada' }, target: { kind: 'session', id: ctx.sessionId } });
    expect(e.content).toBeUndefined();
  });

  it('records approval requests and decisions, with how long the decision waited', () => {
    const approvals = new Map([
      ['a1', { requestedAt: new Date('2025-01-01T00:00:00.000Z'), previous: 'pending' as const }],
    ]);
    const [req, dec] = sessionActivity({ ...ctx, approvals }, [
      {
        ...at(),
        type: 'approval_request',
        approvalId: 'a1',
        callId: 'c1',
        policy: 'no-push',
        reason: 'git push',
        options: ['approve', 'deny'],
      },
      {
        ...at({ actor: ada, createdAt: '2025-01-01T00:01:30.400Z' }),
        type: 'approval_decision',
        approvalId: 'a1',
        decision: 'approve',
      },
    ]);
    expect(req).toMatchObject({
      action: 'approval.requested',
      actor: agent,
      target: { kind: 'approval', id: 'a1' },
      details: { approvalId: 'a1', policy: 'no-push', subject: 'tool_call', callId: 'c1' },
      content: { reason: 'git push', options: ['approve', 'deny'] },
    });
    expect(dec).toMatchObject({
      action: 'approval.decided',
      actor: { kind: 'user', id: 'u-ada' },
      outcome: 'success',
      details: { approvalId: 'a1', decision: 'approve', waitedSeconds: 90 },
    });
  });

  it('records a timeout as the system, and skips a decision the API already recorded', () => {
    const approvals = new Map([
      ['a1', { requestedAt: new Date('2025-01-01T00:00:00.000Z'), previous: 'pending' as const }],
      ['a2', { requestedAt: new Date('2025-01-01T00:00:00.000Z'), previous: 'denied' as const }],
      ['a3', { requestedAt: new Date('2025-01-01T00:00:00.000Z'), previous: 'approved' as const }],
    ]);
    const events = sessionActivity({ ...ctx, approvals }, [
      { ...at(), type: 'approval_decision', approvalId: 'a1', decision: 'timeout' },
      { ...at({ actor: ada }), type: 'approval_decision', approvalId: 'a2', decision: 'deny' },
      // The runner timed out before the API's approval reached it: what it did differs, so it is recorded.
      { ...at(), type: 'approval_decision', approvalId: 'a3', decision: 'timeout' },
      // No approval row known: recorded, without a wait.
      { ...at({ actor: ada }), type: 'approval_decision', approvalId: 'a4', decision: 'deny' },
    ]);
    expect(events.map((e) => [e.details?.approvalId, e.actor?.kind, e.outcome])).toEqual([
      ['a1', 'system', 'denied'],
      ['a3', 'system', 'denied'],
      ['a4', 'user', 'denied'],
    ]);
    expect(events[2].details).not.toHaveProperty('waitedSeconds');
  });

  it('names a decision on a usage report a spend threshold crossed', () => {
    const events = sessionActivity(ctx, [
      {
        ...at(),
        type: 'policy_decision',
        action: 'usage',
        verdict: 'ask',
        policies: ['budget'],
        reasons: ['$5 spent'],
      },
      { ...at(), type: 'policy_decision', action: 'usage', verdict: 'allow', policies: [], reasons: [] },
      {
        ...at(),
        type: 'policy_decision',
        action: 'usage',
        verdict: 'deny',
        policies: ['budget'],
        reasons: ['cap $50'],
      },
    ]);
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ['policy.decision', 'success'],
      ['spend.threshold_crossed', 'success'],
      ['policy.decision', 'denied'],
      ['spend.threshold_crossed', 'denied'],
    ]);
    expect(events[1]).toMatchObject({
      details: { verdict: 'ask', policies: 'budget' },
      content: { reasons: ['$5 spent'] },
    });
  });

  it('records egress by host: refusals, hosts reached and credentials injected by name, never a value', () => {
    const events = sessionActivity(ctx, [
      {
        ...at(),
        type: 'egress',
        decision: 'denied',
        method: 'CONNECT',
        host: 'exfil.test',
        port: 443,
        code: 'host_not_allowed',
        reason: 'exfil.test is not in the allow list',
      },
      {
        ...at(),
        type: 'egress',
        decision: 'allowed',
        method: 'POST',
        host: 'api.github.com',
        port: 443,
        credentials: ['GH_TOKEN'],
      },
    ]);
    const host = (name: string, port: number) => ({ kind: 'host', id: `${name}:${port}`, name });
    expect(events.map((e) => [e.action, e.outcome ?? 'success', e.target, e.actor])).toEqual([
      ['egress.denied', 'denied', host('exfil.test', 443), agent],
      ['egress.allowed', 'success', host('api.github.com', 443), agent],
      ['egress.credential_injected', 'success', host('api.github.com', 443), agent],
    ]);
    expect(events[0]).toMatchObject({
      details: { method: 'CONNECT', host: 'exfil.test', port: 443, code: 'host_not_allowed', path: null },
      content: { reason: 'exfil.test is not in the allow list' },
    });
    expect(events[2].details).toEqual({ method: 'POST', host: 'api.github.com', port: 443, credential: 'GH_TOKEN' });
  });

  it('records a failed turn, and nothing for streamed text, usage, notices or turn boundaries', () => {
    const events = sessionActivity(ctx, [
      { ...at(), type: 'turn_started' },
      { ...at(), type: 'agent_message', text: 'hi' },
      { ...at(), type: 'reasoning', text: 'hmm' },
      { ...at(), type: 'file_change', path: 'a', diff: '+' },
      { ...at(), type: 'usage', model: 'm', inputTokens: 1, outputTokens: 1, cachedTokens: 0, costUsd: 0 },
      { ...at(), type: 'notice', level: 'info', text: 'n' },
      { ...at(), type: 'turn_completed', stopReason: 'end_turn' },
      { ...at(), type: 'turn_failed', error: 'runner restarted' },
    ]);
    expect(events).toEqual([
      {
        orgId: ctx.orgId,
        sessionId: ctx.sessionId,
        turnId: 't1',
        action: 'session.turn_failed',
        target: { kind: 'session', id: ctx.sessionId },
        actor: agent,
        outcome: 'failed',
        content: { error: 'runner restarted' },
      },
    ]);
  });
});
