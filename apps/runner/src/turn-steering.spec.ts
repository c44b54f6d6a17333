import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { HarnessAdapter, HarnessSession, TurnInput } from '@yoke/harness';
import { AgentSpec, type InboxInput, type ItemDraft, type SessionStartSpec } from '@yoke/protocol';
import { SessionSupervisor, type SupervisorDeps, type TurnResult } from './session-supervisor';

type SteerMode = 'accept' | 'refuse' | 'none';

/**
 * Steering in the runner: a session supervisor with a scripted harness whose turn waits until the test lets it end,
 * and which takes messages into the running turn (`accept`), refuses them (`refuse`) or has no `steer` (`none`).
 * The turn's final answer lists every message it read.
 */
describe('session supervisor: messages sent while a turn runs', () => {
  const ada = { id: 'u1', name: 'Ada' };
  const bob = { id: 'u2', name: 'Bob' };
  let dir: string;
  let sup: SessionSupervisor;
  let results: TurnResult[];
  let turns: TurnInput[];
  let steered: TurnInput[];
  let finish: (() => void)[];

  const textOf = (input: TurnInput) => input.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

  const adapter = (mode: SteerMode): HarnessAdapter => ({
    name: 'scripted',
    start: async (options) => {
      let running: { input: TurnInput; read: string[] } | null = null;
      const session: HarnessSession = {
        runTurn: async (input) => {
          turns.push(input);
          running = { input, read: [textOf(input)] };
          await new Promise<void>((resolve) => finish.push(resolve));
          options.onEvent({ kind: 'item', item: { type: 'agent_message', text: `read: ${running.read.join(' | ')}` } });
          running = null;
          return { stopReason: 'end_turn' };
        },
        cancel: () => undefined,
        close: async () => undefined,
      };
      if (mode !== 'none') {
        session.steer = async (input) => {
          steered.push(input);
          if (mode === 'refuse' || !running || running.input.turnId !== input.turnId) return false;
          running.read.push(textOf(input));
          return true;
        };
      }
      return session;
    },
  });

  function start(mode: SteerMode, policies: unknown[] = []): void {
    const spec: SessionStartSpec = {
      sessionId: randomUUID(),
      agent: AgentSpec.parse({ name: 'a', prompt: 'p', model: 'claude-sonnet-4-5' }),
      harness: 'yoke',
      model: null,
      workspace: null,
      policies: policies.map((spec) => ({ level: 'org', spec, origin: 'org:test' })) as SessionStartSpec['policies'],
    };
    const deps: SupervisorDeps = {
      dir: join(dir, 'session'),
      adapterFor: () => adapter(mode),
      provider: {},
      permission: async () => ({ behavior: 'allow' }),
      onItems: () => undefined,
      onDelta: () => undefined,
      log: pino({ level: 'silent' }),
      onTurnEnd: (_id, result) => results.push(result),
    };
    sup = SessionSupervisor.create(spec, join(dir, 'ws'), deps);
  }

  const say = (text: string, actor = ada, extra: Partial<Extract<InboxInput, { kind: 'message' }>> = {}) =>
    sup.apply({
      id: randomUUID(),
      sessionId: sup.sessionId,
      input: { kind: 'message', content: [{ type: 'text', text }], actor, ...extra },
      createdAt: new Date().toISOString(),
    });
  const items = (): ItemDraft[] => sup.outbox.pending();
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 400; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  /** Lets the running turn (number `n`, 1-based) end. */
  const endTurn = async (n: number) => {
    await until(() => finish.length >= n, `turn ${n} to run`);
    finish[n - 1]();
    await until(() => results.length >= n, `turn ${n} to end`);
  };
  /** The session's log as `type[:text]` by author, turn by turn. */
  const log = () =>
    items().map((i) => {
      const text =
        i.type === 'user_message'
          ? `:${i.content.map((c) => (c.type === 'text' ? c.text : '')).join('')}`
          : i.type === 'agent_message' || i.type === 'notice'
            ? `:${i.text}`
            : '';
      return `${i.turnId ?? '-'} ${i.type}${text} (${i.actor?.name ?? '-'})`;
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-turn-steering-'));
    results = [];
    turns = [];
    steered = [];
    finish = [];
  });
  afterEach(() => sup.close());

  it('a message sent during a turn joins that turn, by its author, once; the turn ends once', async () => {
    start('accept');
    say('fix the bug');
    await until(() => turns.length === 1, 'turn 1');
    say('also add a test', bob);
    await until(() => steered.length === 1, 'the steer');
    await until(() => items().filter((i) => i.type === 'user_message').length === 2, 'the steered message');
    expect(sup.state.queued).toEqual([]);
    await endTurn(1);

    const turnId = turns[0].turnId;
    expect(log().filter((l) => !l.includes('policy_decision'))).toEqual([
      `${turnId} turn_started (Ada)`,
      `${turnId} user_message:fix the bug (Ada)`,
      `${turnId} user_message:also add a test (Bob)`,
      `${turnId} agent_message:read: fix the bug | also add a test (Ada)`,
      `${turnId} turn_completed (Ada)`,
    ]);
    expect(steered[0]).toMatchObject({ turnId, actor: bob });
    expect(turns).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(turns).toHaveLength(1); // nothing was left in the queue to run again
  });

  it('messages sent one after another during a turn all join it, in order', async () => {
    start('accept');
    say('fix the bug');
    await until(() => turns.length === 1, 'turn 1');
    say('also add a test', bob);
    say('and update the docs', ada);
    await until(() => items().filter((i) => i.type === 'user_message').length === 3, 'both steered messages');
    await endTurn(1);
    expect(steered.map(textOf)).toEqual(['also add a test', 'and update the docs']);
    expect(log().filter((l) => /user_message|agent_message/.test(l))).toEqual([
      `${turns[0].turnId} user_message:fix the bug (Ada)`,
      `${turns[0].turnId} user_message:also add a test (Bob)`,
      `${turns[0].turnId} user_message:and update the docs (Ada)`,
      `${turns[0].turnId} agent_message:read: fix the bug | also add a test | and update the docs (Ada)`,
    ]);
    expect(turns).toHaveLength(1);
  });

  it('a harness without steering queues the message for a turn of its own, as before', async () => {
    start('none');
    say('fix the bug');
    await until(() => turns.length === 1, 'turn 1');
    say('also add a test', bob);
    await new Promise((r) => setTimeout(r, 30));
    expect(sup.state.queued).toHaveLength(1);
    await endTurn(1);
    await endTurn(2);
    expect(turns.map(textOf)).toEqual(['fix the bug', 'also add a test']);
    expect(turns[1].actor).toEqual(bob);
    const completed = items().filter((i) => i.type === 'turn_completed');
    expect(completed.map((i) => i.turnId)).toEqual(turns.map((t) => t.turnId));
    expect(items().filter((i) => i.type === 'user_message')).toHaveLength(2);
  });

  it('a message the harness refuses runs as a turn of its own, recorded once and checked by the policies once', async () => {
    start('refuse', [{ type: 'expr', name: 'watch-prompts', when: 'action.type == "prompt"', verdict: 'allow' }]);
    say('fix the bug');
    await until(() => turns.length === 1, 'turn 1');
    say('also add a test', bob);
    await until(() => steered.length === 1, 'the refused steer');
    await endTurn(1);
    await endTurn(2);
    expect(turns.map(textOf)).toEqual(['fix the bug', 'also add a test']);
    const messages = items().filter((i) => i.type === 'user_message');
    expect(messages.map((i) => [i.turnId, i.actor?.name])).toEqual([
      [turns[0].turnId, 'Ada'],
      [turns[1].turnId, 'Bob'],
    ]);
    const promptDecisions = items().filter((i) => i.type === 'policy_decision' && i.action === 'prompt');
    expect(promptDecisions).toHaveLength(2);
  });

  it('a message that switches harness or model, and any message behind it, waits for a turn of its own', async () => {
    start('accept');
    say('fix the bug');
    await until(() => turns.length === 1, 'turn 1');
    say('now with another model', bob, { model: 'claude-haiku-4-5' });
    say('and then this', ada);
    await new Promise((r) => setTimeout(r, 30));
    expect(steered).toEqual([]);
    expect(sup.state.queued).toHaveLength(2);
    await endTurn(1);
    await endTurn(2);
    await endTurn(3);
    expect(turns.map(textOf)).toEqual(['fix the bug', 'now with another model', 'and then this']);
  });

  it('a steered message the policies refuse is recorded in the turn and never reaches the agent', async () => {
    start('accept', [
      {
        type: 'expr',
        name: 'no-secrets',
        when: 'action.type == "prompt" && action.text == "the secret"',
        verdict: 'deny',
      },
    ]);
    say('fix the bug');
    await until(() => turns.length === 1, 'turn 1');
    say('the secret', bob);
    await until(() => items().some((i) => i.type === 'notice'), 'the refusal');
    await endTurn(1);
    expect(steered).toEqual([]);
    const turnId = turns[0].turnId;
    expect(log().filter((l) => /user_message|notice|agent_message/.test(l))).toEqual([
      `${turnId} user_message:fix the bug (Ada)`,
      `${turnId} user_message:the secret (Bob)`,
      expect.stringMatching(new RegExp(`^${turnId} notice:not sent to the agent: .*no-secrets.* \\(Bob\\)$`)),
      `${turnId} agent_message:read: fix the bug (Ada)`,
    ]);
    await new Promise((r) => setTimeout(r, 30));
    expect(turns).toHaveLength(1);
  });
});
