import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec, type ItemBody } from '@yoke/protocol';
import { type FakeModel, type FakeModelStep, startFakeModel } from '../../../test/fixtures/fake-model';
import type {
  HarnessAdapter,
  HarnessEvent,
  HarnessSession,
  HarnessStartOptions,
  PermissionHook,
  PermissionRequest,
} from '../src/adapter';
import { descendantsOf } from '../src/codex/cli-process';

/**
 * What the adapter specs share: the set-up (a fake model, a fresh workspace, recorded events and permission asks),
 * waiting, process checks and the cancel/close case every adapter must pass.
 */

const actor = { id: 'u1', name: 'Ada' };

export interface AdapterRig {
  /** One fake model for the whole describe block; its requests are cleared before each test. */
  readonly fake: FakeModel;
  /** Provider settings that point OpenAI-compatible harnesses at the fake, with the key `test-key`. */
  readonly openai: { openaiBaseUrl: string; openaiApiKey: string };
  /** A fresh directory per test, holding `ws` (the workspace) and `state`. */
  readonly root: string;
  readonly workspace: string;
  /** What the sessions of the running test emitted, and what they asked the permission hook. */
  readonly events: HarnessEvent[];
  readonly asked: PermissionRequest[];
  /**
   * Starts a session of `adapter` in the test's workspace and state dir, recording its events and asks (the hook
   * allows unless `permission` says otherwise). The rig closes it after the test.
   */
  launch(
    adapter: HarnessAdapter,
    options: Pick<HarnessStartOptions, 'agent' | 'provider'> & Partial<Pick<HarnessStartOptions, 'model' | 'launch'>>,
    permission?: PermissionHook,
  ): Promise<HarnessSession>;
  turn(session: HarnessSession, text: string, turnId?: string): ReturnType<HarnessSession['runTurn']>;
  /** The items emitted so far. */
  items(): ItemBody[];
  /** The types of everything emitted so far (items and deltas), in order. */
  types(): string[];
  /**
   * RUN: the model has the harness's shell tool (`shell`) write out.txt, then answers "Wrote out.txt.". Checks that
   * the turn ends, the file is written, the hook was asked once for the shell (`ask` adds the harness's own fields),
   * the types come in `order`, the tool call carries the asked call id (and `call`), and the message reads
   * "Wrote out.txt.".
   */
  expectShellTurn(c: {
    start: () => Promise<HarnessSession>;
    shell: ShellStep;
    ask: object;
    order: string[];
    call?: object;
  }): Promise<void>;
  /** The streamed agent_message deltas join to `text` (and, when `oneStream`, all share the message's stream). */
  expectStreamed(text: string, oneStream?: boolean): void;
  /** `count` usage items (when given); the first is of `model` with input tokens and a positive cost. */
  expectUsage(model: string, count?: number): ItemBody[];
  /**
   * DENY: the same shell call under a hook that refuses ("no writes today"): the turn ends, nothing is written or
   * run, and the call's result is the refusal.
   */
  expectRefusedTurn(start: (permission: PermissionHook) => Promise<HarnessSession>, shell: ShellStep): Promise<void>;
  /** BROKEN: a hook that throws denies: the turn ends, nothing is written, the result names the error. */
  expectThrowingHookDenies(
    start: (permission: PermissionHook) => Promise<HarnessSession>,
    shell: ShellStep,
  ): Promise<void>;
  /** The shared cancel/close case (cancelStopsTurnsAndCloseEndsTheTree) with this rig's model, workspace and turns. */
  expectCancelAndClose(c: Omit<CancelCase, 'fake' | 'workspace' | 'turn' | 'items'>): Promise<void>;
  /**
   * A second session on the same state sees the first one's conversation in what it `sent()` the model last (by
   * default the whole body of the last request).
   */
  expectResumes(start: () => Promise<HarnessSession>, sent?: () => string): Promise<void>;
}

/** A model step that runs `command` through a harness's shell tool. */
export type ShellStep = (command: string) => FakeModelStep;

/** Registers the adapter-spec set-up in the calling describe block (temp dirs named `yoke-<prefix>-…`). */
export function adapterRig(prefix: string): AdapterRig {
  const state = {
    fake: undefined as unknown as FakeModel,
    root: '',
    workspace: '',
    events: [] as HarnessEvent[],
    asked: [] as PermissionRequest[],
    sessions: [] as HarnessSession[],
  };
  beforeAll(async () => {
    state.fake = await startFakeModel();
  });
  afterAll(() => state.fake.close());
  beforeEach(() => {
    state.root = mkdtempSync(join(tmpdir(), `yoke-${prefix}-`));
    state.workspace = join(state.root, 'ws');
    mkdirSync(state.workspace);
    state.events = [];
    state.asked = [];
    state.sessions = [];
    state.fake.requests.length = 0;
  });
  afterEach(async () => {
    for (const s of state.sessions) await s.close();
  });
  const turn: AdapterRig['turn'] = (session, text, turnId = 't1') =>
    session.runTurn({ turnId, content: [{ type: 'text', text }], actor });
  const items = () => state.events.flatMap((e) => (e.kind === 'item' ? [e.item] : []));
  const rig: AdapterRig = {
    get fake() {
      return state.fake;
    },
    get openai() {
      return { openaiBaseUrl: state.fake.openaiBaseUrl, openaiApiKey: 'test-key' };
    },
    get root() {
      return state.root;
    },
    get workspace() {
      return state.workspace;
    },
    get events() {
      return state.events;
    },
    get asked() {
      return state.asked;
    },
    async launch(adapter, options, permission = async () => ({ behavior: 'allow' })) {
      const session = await adapter.start({
        sessionId: 's1',
        model: null,
        workspace: state.workspace,
        stateDir: join(state.root, 'state'),
        permission: (request) => {
          state.asked.push(request);
          return permission(request);
        },
        onEvent: (event) => state.events.push(event),
        ...options,
      });
      state.sessions.push(session);
      return session;
    },
    turn,
    items,
    types: () => state.events.map((e) => (e.kind === 'item' ? e.item.type : e.delta.type)),
    async expectShellTurn(c) {
      state.fake.script([{ match: 'RUN', steps: [c.shell('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
      const session = await c.start();
      await expect(turn(session, 'RUN the command')).resolves.toEqual({ stopReason: 'end_turn' });

      expect(readFileSync(join(state.workspace, 'out.txt'), 'utf8')).toBe('hi\n');
      expect(state.asked).toEqual([expect.objectContaining({ tool: 'shell', ...c.ask })]);
      expectInOrder(rig.types(), c.order);
      expect(items().find((i) => i.type === 'tool_call')).toMatchObject({ callId: state.asked[0].callId, ...c.call });
      expect(items().find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Wrote out.txt.' });
    },
    expectStreamed(text, oneStream = false) {
      const deltas = state.events.flatMap((e) =>
        e.kind === 'delta' && e.delta.type === 'agent_message_delta' ? [e.delta] : [],
      );
      expect(deltas.map((d) => d.text).join('')).toBe(text);
      if (oneStream) {
        const message = items().find((i) => i.type === 'agent_message') as { streamId: string };
        expect(new Set(deltas.map((d) => d.streamId))).toEqual(new Set([message.streamId]));
      }
    },
    expectUsage(model, count) {
      const usage = items().filter((i) => i.type === 'usage');
      if (count !== undefined) expect(usage).toHaveLength(count);
      expect(usage[0]).toMatchObject({ model, inputTokens: expect.any(Number) });
      expect((usage[0] as { costUsd: number }).costUsd).toBeGreaterThan(0);
      return usage;
    },
    async expectRefusedTurn(start, shell) {
      state.fake.script([{ match: 'DENY', steps: [shell('echo hi > out.txt'), { text: 'Understood.' }] }]);
      const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
      await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
      expect(existsSync(join(state.workspace, 'out.txt'))).toBe(false);
      expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
        isError: true,
        output: 'permission denied: no writes today',
      });
      expect(items().some((i) => i.type === 'command')).toBe(false);
    },
    async expectThrowingHookDenies(start, shell) {
      state.fake.script([{ match: 'BROKEN', steps: [shell('echo hi > out.txt'), { text: 'Ok.' }] }]);
      const session = await start(async () => {
        throw new Error('policy engine down');
      });
      await expect(turn(session, 'BROKEN hook')).resolves.toEqual({ stopReason: 'end_turn' });
      expect(existsSync(join(state.workspace, 'out.txt'))).toBe(false);
      expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
        isError: true,
        output: expect.stringContaining('policy engine down'),
      });
    },
    expectCancelAndClose: (c) =>
      cancelStopsTurnsAndCloseEndsTheTree({ fake: state.fake, workspace: state.workspace, turn, items, ...c }),
    async expectResumes(start, sent = () => JSON.stringify(state.fake.requests[state.fake.requests.length - 1].body)) {
      state.fake.script([
        { match: 'REMEMBER-1', steps: [{ text: 'The secret is 42.' }] },
        { match: 'REMEMBER-2', steps: [{ text: 'You said 42.' }] },
      ]);
      const first = await start();
      await turn(first, 'REMEMBER-1: the secret');
      await first.close();
      const second = await start();
      await expect(turn(second, 'REMEMBER-2: what was it?')).resolves.toEqual({ stopReason: 'end_turn' });
      expect(sent()).toContain('The secret is 42.');
    },
  };
  return rig;
}

/** The process a session runs in (adapters keep it as `pid` or as their child `proc`). */
export function sessionPid(session: HarnessSession): number {
  const s = session as unknown as { pid?: number; proc?: { pid: number } };
  const pid = s.pid ?? s.proc?.pid;
  if (pid === undefined) throw new Error('the session has no process');
  return pid;
}

/** A test agent spec (`coder`, "You are a test agent.") with these fields. */
export const testAgent = (fields: Record<string, unknown>): AgentSpec =>
  AgentSpec.parse({ name: 'coder', prompt: 'You are a test agent.', ...fields });

export async function expectEventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Types of `list` keep the order of `expected` (other types may sit in between). */
export function expectInOrder(list: string[], expected: string[]): void {
  let at = 0;
  for (const type of list) if (type === expected[at]) at++;
  expect({ list, matched: expected.slice(0, at) }).toEqual({ list, matched: expected });
}

export interface CancelCase {
  fake: FakeModel;
  workspace: string;
  start(): Promise<HarnessSession>;
  turn(session: HarnessSession, text: string, turnId: string): ReturnType<HarnessSession['runTurn']>;
  items(): ItemBody[];
  /** A model step that runs `command` through this harness's shell tool. */
  shell(command: string): FakeModelStep;
  /** The process the session runs in (by default sessionPid). */
  pidOf?(session: HarnessSession): number;
  /** The session's process has children of its own (checked before close). */
  hasChildren?: boolean;
  /** After close, a turn is refused as "not running". */
  refusesAfterClose?: boolean;
}

/**
 * Cancel stops a held model call and a running command (the command's process dies); the next turn works; close
 * ends the session's whole process tree.
 */
export async function cancelStopsTurnsAndCloseEndsTheTree(c: CancelCase): Promise<void> {
  c.fake.hold('gate');
  c.fake.script([
    { match: 'HOLD', steps: [{ holdUntil: 'gate', text: 'never seen' }] },
    { match: 'SLEEP', steps: [c.shell('sleep 30 & echo $! > pid.txt; wait')] },
    { match: 'AGAIN', steps: [{ text: 'Back.' }] },
  ]);
  const session = await c.start();
  const held = c.turn(session, 'HOLD on', 't1');
  await c.fake.waitForHold('gate');
  session.cancel();
  await expect(held).resolves.toEqual({ stopReason: 'cancelled' });

  const sleeping = c.turn(session, 'SLEEP now', 't2');
  const pidFile = join(c.workspace, 'pid.txt');
  await expectEventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
  const sleepPid = Number(readFileSync(pidFile, 'utf8'));
  session.cancel();
  await expect(sleeping).resolves.toEqual({ stopReason: 'cancelled' });
  await expectEventually(() => !isAlive(sleepPid));

  await expect(c.turn(session, 'AGAIN please', 't3')).resolves.toEqual({ stopReason: 'end_turn' });
  expect(
    c
      .items()
      .filter((i) => i.type === 'agent_message')
      .map((i) => (i as { text: string }).text),
  ).toEqual(['Back.']);

  const pid = (c.pidOf ?? sessionPid)(session);
  const tree = [pid, ...descendantsOf(pid)];
  if (c.hasChildren) expect(tree.length).toBeGreaterThan(1);
  await session.close();
  await expectEventually(() => tree.every((p) => !isAlive(p)));
  if (c.refusesAfterClose) await expect(c.turn(session, 'AGAIN', 't4')).rejects.toThrow(/not running/);
}
