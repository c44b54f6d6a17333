import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ItemBody } from '@yoke/protocol';
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
}

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
  return {
    get fake() {
      return state.fake;
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
    turn: (session, text, turnId = 't1') => session.runTurn({ turnId, content: [{ type: 'text', text }], actor }),
    items: () => state.events.flatMap((e) => (e.kind === 'item' ? [e.item] : [])),
    types: () => state.events.map((e) => (e.kind === 'item' ? e.item.type : e.delta.type)),
  };
}

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
  /** The process the session runs in. */
  pidOf(session: HarnessSession): number;
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

  const pid = c.pidOf(session);
  const tree = [pid, ...descendantsOf(pid)];
  if (c.hasChildren) expect(tree.length).toBeGreaterThan(1);
  await session.close();
  await expectEventually(() => tree.every((p) => !isAlive(p)));
  if (c.refusesAfterClose) await expect(c.turn(session, 'AGAIN', 't4')).rejects.toThrow(/not running/);
}
