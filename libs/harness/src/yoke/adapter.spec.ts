import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSpec } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../../../../test/fixtures/fake-model';
import type { HarnessEvent, HarnessStartOptions } from '../adapter';
import { agentProcessCommand, defaultAgentProcessEntry, YokeHarnessAdapter } from './adapter';
import { expectEventually, isAlive } from '../../test/adapter-kit';

jest.setTimeout(30_000);

describe('YokeHarnessAdapter (child process)', () => {
  let fake: FakeModel;
  let root: string;
  let workspace: string;

  beforeEach(async () => {
    fake = await startFakeModel();
    root = mkdtempSync(join(tmpdir(), 'yoke-adapter-'));
    workspace = join(root, 'ws');
    mkdirSync(workspace);
  });
  afterEach(() => fake.close());

  const options = (overrides: Partial<HarnessStartOptions> = {}): HarnessStartOptions => ({
    sessionId: 's',
    agent: AgentSpec.parse({ name: 'a', prompt: 'p', model: 'claude-haiku-4-5' }),
    model: null,
    workspace,
    stateDir: join(root, 'state'),
    provider: { anthropicBaseUrl: fake.anthropicBaseUrl, anthropicApiKey: 'k' },
    permission: async () => ({ behavior: 'allow' }),
    onEvent: () => undefined,
    ...overrides,
  });

  it('resolves its entry next to itself: the TS source under jest, run through the swc hook', () => {
    const entry = defaultAgentProcessEntry();
    expect(entry).toBe(join(__dirname, 'agent-process.ts'));
    expect(agentProcessCommand(entry)).toEqual(['-r', join(__dirname, 'ts-register.js'), entry]);
    expect(agentProcessCommand('/x/dist/yoke/agent-process.js')).toEqual(['/x/dist/yoke/agent-process.js']);
  });

  it('close() kills the agent process and everything its shells started', async () => {
    fake.script([
      {
        match: 'BG',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'sleep 60 & echo $! > pid.txt; wait' } }] }],
      },
    ]);
    const session = await new YokeHarnessAdapter().start(options());
    const running = session.runTurn({
      turnId: 't',
      content: [{ type: 'text', text: 'BG' }],
      actor: { id: 'u', name: 'u' },
    });
    const pidFile = join(workspace, 'pid.txt');
    await expectEventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(true);
    await session.close();
    await expect(running).resolves.toEqual({ stopReason: 'cancelled' });
    await expectEventually(() => !isAlive(pid));
    await expect(
      session.runTurn({ turnId: 't2', content: [{ type: 'text', text: 'x' }], actor: { id: 'u', name: 'u' } }),
    ).rejects.toThrow(/not running/);
  });

  it('fails start with the reason when the agent cannot start (no model)', async () => {
    const agent = AgentSpec.parse({ name: 'a', prompt: 'p' });
    await expect(new YokeHarnessAdapter().start(options({ agent }))).rejects.toThrow(/has no model/);
  });

  it('rejects the running turn when the agent process dies, with its stderr', async () => {
    const entry = join(root, 'dies.js');
    writeFileSync(
      entry,
      `process.stdin.on('data', (d) => { for (const line of String(d).split('\\n').filter(Boolean)) {
         const m = JSON.parse(line);
         if (m.type === 'start') process.stdout.write(JSON.stringify({ type: 'ready' }) + '\\n');
         if (m.type === 'turn') { process.stderr.write('boom: out of cheese'); process.exit(3); }
       } });`,
    );
    const session = await new YokeHarnessAdapter({ entry }).start(options());
    await expect(
      session.runTurn({ turnId: 't', content: [{ type: 'text', text: 'hi' }], actor: { id: 'u', name: 'u' } }),
    ).rejects.toThrow(/exited \(code 3\).*out of cheese/);
    await session.close();
  });

  it('never passes on a message that breaks the contract; reports it as a notice', async () => {
    const entry = join(root, 'garbage.js');
    writeFileSync(
      entry,
      `process.stdin.on('data', (d) => { for (const line of String(d).split('\\n').filter(Boolean)) {
         const m = JSON.parse(line);
         const send = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
         if (m.type === 'start') send({ type: 'ready' });
         if (m.type === 'turn') {
           process.stdout.write('not json\\n');
           send({ type: 'event', event: { kind: 'item', item: { type: 'bogus' } } });
           send({ type: 'turn_done', outcome: { stopReason: 'end_turn' } });
         }
       } });`,
    );
    const events: HarnessEvent[] = [];
    const session = await new YokeHarnessAdapter({ entry }).start(options({ onEvent: (e) => events.push(e) }));
    await expect(
      session.runTurn({ turnId: 't', content: [{ type: 'text', text: 'hi' }], actor: { id: 'u', name: 'u' } }),
    ).resolves.toEqual({ stopReason: 'end_turn' });
    expect(events).toEqual([
      { kind: 'item', item: { type: 'notice', level: 'error', text: expect.stringContaining('not JSON') } },
      { kind: 'item', item: { type: 'notice', level: 'error', text: expect.stringContaining('bogus') } },
    ]);
    await session.close();
  });

  it('the agent process exits by itself when its stdin closes', async () => {
    const entry = defaultAgentProcessEntry();
    const child = spawn(process.execPath, agentProcessCommand(entry), { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.end();
    await expect(exited).resolves.toBe(0);
  });
});
