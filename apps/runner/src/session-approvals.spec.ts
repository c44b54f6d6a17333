import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { HarnessAdapter, HarnessStartOptions } from '@yoke/harness';
import { AgentSpec, type InboxInput, type ItemDraft, type SessionStartSpec } from '@yoke/protocol';
import { SessionSupervisor, type SupervisorDeps, type TurnResult } from './session-supervisor';

type Request = Extract<ItemDraft, { type: 'approval_request' }>;

/**
 * "Always allow in this session" (`approve_session`) and switching harness or model from a message's turn on, in the
 * runner: a session supervisor with a scripted harness whose turn runs each line of the prompt as a shell command
 * through the permission hook (so through the policy gate).
 */
describe('session supervisor: session-wide approvals and harness switches', () => {
  const actor = { id: 'u1', name: 'Ada' };
  let dir: string;
  let sup: SessionSupervisor;
  let results: TurnResult[];
  let ran: string[];
  let started: { harness: string; options: HarnessStartOptions }[];
  let closed: string[];

  const adapter = (name: string): HarnessAdapter => ({
    name,
    start: async (options) => {
      started.push({ harness: name, options });
      return {
        runTurn: async ({ content }) => {
          const text = content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
          for (const command of text.split('\n').filter(Boolean)) {
            const callId = `c${randomUUID().slice(0, 6)}`;
            const verdict = await options.permission({ callId, tool: 'shell', nativeTool: 'Bash', input: { command } });
            if (verdict.behavior === 'allow') ran.push(command);
          }
          options.onEvent({ kind: 'item', item: { type: 'agent_message', text: 'done' } });
          return { stopReason: 'end_turn' };
        },
        cancel: () => undefined,
        close: async () => void closed.push(name),
      };
    },
  });

  const deps = (): SupervisorDeps => ({
    dir: join(dir, 'session'),
    adapterFor: (harness) => adapter(harness),
    provider: {},
    permission: async () => ({ behavior: 'allow' }),
    onItems: () => undefined,
    onDelta: () => undefined,
    log: pino({ level: 'silent' }),
    onTurnEnd: (_id, result) => results.push(result),
  });

  function start(policies: unknown[]): void {
    const spec: SessionStartSpec = {
      sessionId: randomUUID(),
      agent: AgentSpec.parse({ name: 'a', prompt: 'p', model: 'claude-sonnet-4-5' }),
      harness: 'yoke',
      model: null,
      workspace: null,
      policies: policies.map((spec) => ({ level: 'org', spec, origin: 'org:test' })) as SessionStartSpec['policies'],
    };
    sup = SessionSupervisor.create(spec, join(dir, 'ws'), deps());
  }

  const apply = (input: InboxInput) =>
    sup.apply({ id: randomUUID(), sessionId: sup.sessionId, input, createdAt: new Date().toISOString() });
  const say = (text: string, extra: Partial<Extract<InboxInput, { kind: 'message' }>> = {}) =>
    apply({ kind: 'message', content: [{ type: 'text', text }], actor, ...extra });
  const items = (): ItemDraft[] => sup.outbox.pending();
  const requests = () => items().filter((i): i is Request => i.type === 'approval_request');
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 400; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  /** Waits for approval request number `n` (1-based) and answers it. */
  async function answer(n: number, decision: 'approve' | 'approve_session' | 'deny'): Promise<Request> {
    await until(() => requests().length >= n, `approval request ${n}`);
    const request = requests()[n - 1];
    apply({ kind: 'approval', approvalId: request.approvalId, decision, actor });
    return request;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-session-approvals-'));
    results = [];
    ran = [];
    started = [];
    closed = [];
  });
  afterEach(() => sup.close());

  const askShell = { type: 'ask_on_tools', name: 'ask-shell', tools: ['shell'] };

  it('approve_session: the same command runs again without asking, another still asks, and a restart keeps it', async () => {
    start([askShell]);
    say('npm test');
    const first = await answer(1, 'approve_session');
    expect(first).toMatchObject({ canApproveForSession: true, options: ['approve', 'approve_session', 'deny'] });
    await until(() => results.length === 1, 'turn 1');
    expect(items().find((i) => i.type === 'approval_decision')).toMatchObject({ decision: 'approve_session', actor });
    expect(sup.state.policyState?.granted).toHaveLength(1);

    say('npm test\nnpm test -- --watch');
    await answer(2, 'deny');
    await until(() => results.length === 2, 'turn 2');
    expect(requests()).toHaveLength(2);
    expect(requests()[1].reason).toContain('npm test -- --watch');
    expect(ran).toEqual(['npm test', 'npm test']);
    const allowed = items().filter((i) => i.type === 'policy_decision' && i.verdict === 'allow');
    expect(allowed.at(-1)).toMatchObject({ reasons: ['ask-shell: allowed for this session by an earlier approval'] });

    // The runner restarts: the grant is part of the persisted policy state.
    await sup.close();
    sup = SessionSupervisor.resume(sup.sessionId, deps())!;
    say('npm test');
    await until(() => results.length === 3, 'turn 3');
    expect(requests()).toHaveLength(2);
    expect(ran).toEqual(['npm test', 'npm test', 'npm test']);
  });

  it('a policy with allow_always: false offers no session-wide answer; one sent anyway approves this call only', async () => {
    start([{ ...askShell, allow_always: false }]);
    say('git push');
    const first = await answer(1, 'approve_session');
    expect(first).toMatchObject({ canApproveForSession: false, options: ['approve', 'deny'] });
    await until(() => results.length === 1, 'turn 1');
    expect(ran).toEqual(['git push']);
    expect(sup.state.policyState?.granted).toBeUndefined();
    say('git push');
    await answer(2, 'deny');
    await until(() => results.length === 2, 'turn 2');
    expect(ran).toEqual(['git push']);
  });

  it('a command a policy denies is never asked about, so it cannot be approved for the session', async () => {
    start([askShell, { type: 'deny_commands', name: 'no-force', patterns: ['git push --force'] }]);
    say('git push --force');
    await until(() => results.length === 1, 'turn 1');
    expect(requests()).toHaveLength(0);
    expect(ran).toEqual([]);
  });

  it('a message switches harness and model from its turn on: the old harness closes, the new one starts fresh', async () => {
    start([]);
    say('echo one');
    await until(() => results.length === 1, 'turn 1');
    expect(started.map((s) => [s.harness, s.options.model])).toEqual([['yoke', null]]);

    say('echo two', { harness: 'codex', model: 'gpt-5-codex' });
    await until(() => results.length === 2, 'turn 2');
    expect(closed).toEqual(['yoke']);
    expect(started.map((s) => [s.harness, s.options.model])).toEqual([
      ['yoke', null],
      ['codex', 'gpt-5-codex'],
    ]);
    expect(started[1].options.stateDir).not.toBe(started[0].options.stateDir);
    const turn2 = items().filter((i) => i.turnId === items().filter((x) => x.type === 'turn_started')[1].turnId);
    expect(turn2.map((i) => i.type).slice(0, 3)).toEqual(['turn_started', 'notice', 'user_message']);
    expect(turn2[1]).toMatchObject({
      level: 'info',
      text: expect.stringMatching(/^harness switched to codex, model gpt-5-codex; it starts fresh.* by Ada$/),
      actor,
    });
    expect(sup.state.spec).toMatchObject({ harness: 'codex', model: 'gpt-5-codex' });

    // The same harness and model again: nothing restarts. A model alone keeps the harness's state directory.
    say('echo three', { harness: 'codex', model: 'gpt-5-codex' });
    await until(() => results.length === 3, 'turn 3');
    expect(started).toHaveLength(2);
    say('echo four', { model: 'gpt-5' });
    await until(() => results.length === 4, 'turn 4');
    expect(started.map((s) => [s.harness, s.options.model])).toHaveLength(3);
    expect(started[2]).toMatchObject({
      harness: 'codex',
      options: { model: 'gpt-5', stateDir: started[1].options.stateDir },
    });
    expect(
      items()
        .filter((i) => i.type === 'notice')
        .at(-1),
    ).toMatchObject({ text: 'model switched to gpt-5 on codex by Ada' });

    // After a restart the session stays on its new harness.
    await sup.close();
    sup = SessionSupervisor.resume(sup.sessionId, deps())!;
    say('echo five');
    await until(() => results.length === 5, 'turn 5');
    expect(started.at(-1)).toMatchObject({
      harness: 'codex',
      options: { model: 'gpt-5', stateDir: started[1].options.stateDir },
    });
    expect(ran).toEqual(['echo one', 'echo two', 'echo three', 'echo four', 'echo five']);
  });
});
