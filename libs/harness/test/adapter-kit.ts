import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemBody } from '@yoke/protocol';
import type { FakeModel, FakeModelStep } from '../../../test/fixtures/fake-model';
import type { HarnessSession } from '../src/adapter';
import { descendantsOf } from '../src/codex/cli-process';

/** What the adapter specs share: waiting, process checks and the cancel/close case every adapter must pass. */

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
