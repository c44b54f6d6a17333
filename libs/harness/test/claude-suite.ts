import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HarnessAdapter, HarnessSession, PermissionHook } from '../src/adapter';
import { descendantsOf } from '../src/codex/cli-process';
import { adapterRig, expectEventually as eventually, isAlive, testAgent } from './adapter-kit';

/**
 * The adapter spec both Claude harnesses share (`claude-code` drives the CLI, `claude-sdk` the Agent SDK; the
 * messages are the same): each runs the real binary against the fake model. Test-only; not exported by the package.
 */
export function claudeAdapterSuite(
  title: string,
  harness: 'claude-code' | 'claude-sdk',
  makeAdapter: () => HarnessAdapter,
  pidOf: (session: HarnessSession) => number | undefined,
): void {
  const MODEL = 'claude-sonnet-4-5';

  // The Claude binaries start slower: twice the usual wait. (Their notices, hook output, may sit between the types
  // the shared checks expect in order.)
  const expectEventually = (check: () => boolean, timeoutMs = 20_000) => eventually(check, timeoutMs);

  const bash = (command: string) => ({ toolCalls: [{ name: 'Bash', input: { command, description: 'run it' } }] });

  describe(title, () => {
    const rig = adapterRig(harness);
    const { turn, items } = rig;

    const start = (permission?: PermissionHook, model: string | null = null): Promise<HarnessSession> =>
      rig.launch(
        makeAdapter(),
        {
          agent: testAgent({ harness, model: MODEL }),
          model,
          provider: { anthropicBaseUrl: rig.fake.anthropicBaseUrl, anthropicApiKey: 'test-key' },
        },
        permission,
      );
    const modelCalls = () => rig.fake.requests.filter((r) => r.path === '/v1/messages');
    const lastBody = (): string => JSON.stringify(modelCalls()[modelCalls().length - 1].body);

    it('streams text, runs the scripted Bash call after asking the hook, and reports usage per model call', async () => {
      await rig.expectShellTurn({
        start: () => start(),
        shell: bash,
        ask: { nativeTool: 'Bash', input: expect.objectContaining({ command: 'echo hi > out.txt' }) },
        order: ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage'],
        call: { tool: 'shell', nativeTool: 'Bash' },
      });
      expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
        callId: rig.asked[0].callId,
        isError: false,
      });
      rig.expectStreamed('Wrote out.txt.');
      const usage = items().filter((i) => i.type === 'usage');
      expect(usage).toHaveLength(modelCalls().length);
      expect(usage).toHaveLength(2);
      for (const u of usage) {
        expect(u).toMatchObject({ model: MODEL, inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
        expect((u as { costUsd: number }).costUsd).toBeGreaterThan(0);
      }
      // Only the fake was reached, with the key from the provider settings.
      expect(new Set(modelCalls().map((r) => r.headers['x-api-key']))).toEqual(new Set(['test-key']));
      expect(rig.fake.requests.every((r) => r.path === '/v1/messages' || r.method === 'HEAD')).toBe(true);
    });

    it('a refused call does not run, and the model hears the refusal', async () => {
      rig.fake.script([{ match: 'DENY', steps: [bash('echo hi > out.txt'), { text: 'Understood.' }] }]);
      const session = await start(async () => ({ behavior: 'deny', reason: 'no writes today' }));
      await expect(turn(session, 'DENY me')).resolves.toEqual({ stopReason: 'end_turn' });
      expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
      expect(rig.asked).toHaveLength(1);
      expect(items().find((i) => i.type === 'tool_result')).toMatchObject({
        isError: true,
        output: expect.stringContaining('no writes today'),
      });
      expect(items().some((i) => i.type === 'command' && (i as { exitCode: number | null }).exitCode === 0)).toBe(
        false,
      );
      expect(lastBody()).toContain('no writes today');
    });

    it('waits for a slow hook (a human being asked) before running the call', async () => {
      rig.fake.script([{ match: 'ASK', steps: [bash('echo asked > out.txt'), { text: 'Done.' }] }]);
      let answer!: () => void;
      const session = await start(() => new Promise((resolve) => (answer = () => resolve({ behavior: 'allow' }))));
      const running = turn(session, 'ASK first');
      await expectEventually(() => rig.asked.length === 1);
      await new Promise((r) => setTimeout(r, 1500));
      expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
      answer();
      await expect(running).resolves.toEqual({ stopReason: 'end_turn' });
      expect(readFileSync(join(rig.workspace, 'out.txt'), 'utf8')).toBe('asked\n');
    });

    it('cancel stops a held model call and a running command; the next turn works; close ends the tree', async () => {
      rig.fake.hold('gate');
      rig.fake.script([
        // Claude Code merges an interrupted prompt into the next user message: the latest rule comes first.
        { match: 'AGAIN', steps: [{ text: 'Back.' }] },
        // After a cancelled tool call, the next prompt shares a user message with its tool_result, which the fake
        // does not count as a new prompt: the answer to AGAIN is SLEEP's second step.
        { match: 'SLEEP', steps: [bash('tail -f /dev/null & echo $! > pid.txt; wait'), { text: 'Back.' }] },
        { match: 'HOLD', steps: [{ holdUntil: 'gate', text: 'never seen' }] },
      ]);
      const session = await start();
      const held = turn(session, 'HOLD on', 't1');
      await rig.fake.waitForHold('gate');
      session.cancel();
      await expect(held).resolves.toEqual({ stopReason: 'cancelled' });

      const sleeping = turn(session, 'SLEEP now', 't2');
      const pidFile = join(rig.workspace, 'pid.txt');
      await expectEventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
      const sleepPid = Number(readFileSync(pidFile, 'utf8'));
      expect(isAlive(sleepPid)).toBe(true);
      session.cancel();
      await expect(sleeping).resolves.toEqual({ stopReason: 'cancelled' });
      await expectEventually(() => !isAlive(sleepPid));

      await expect(turn(session, 'AGAIN please', 't3')).resolves.toEqual({ stopReason: 'end_turn' });
      expect(lastBody()).toContain('AGAIN please');
      expect(
        items()
          .filter((i) => i.type === 'agent_message')
          .map((i) => (i as { text: string }).text),
      ).toEqual(['Back.']);

      const pid = pidOf(session);
      expect(pid).toBeDefined();
      const tree = [pid as number, ...descendantsOf(pid as number)];
      expect(tree.length).toBeGreaterThan(0);
      await session.close();
      await expectEventually(() => tree.every((p) => !isAlive(p)));
      await expect(turn(session, 'AGAIN', 't4')).rejects.toThrow(/not running/);
    });

    it('a new session on the same state resumes the conversation', () => rig.expectResumes(start, lastBody));

    it("the session's model override reaches the model request", async () => {
      rig.fake.script([{ match: 'MODEL', steps: [{ text: 'ok' }] }]);
      const session = await start(undefined, 'claude-haiku-4-5');
      await turn(session, 'MODEL check');
      expect((modelCalls()[0].body as { model: string }).model).toBe('claude-haiku-4-5');
      expect(items().find((i) => i.type === 'usage')).toMatchObject({ model: 'claude-haiku-4-5' });
    });
  });
}
