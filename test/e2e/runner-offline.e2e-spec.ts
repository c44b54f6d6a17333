import type { Session } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

/**
 * A runner that dies mid-turn and does not come back: after the grace period a background job (BullMQ worker in
 * team mode, in-process in embedded mode) fails its running sessions with the reason, and viewers are told.
 */
describe.each(MODES)('a runner gone for good (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack(mode, { YOKE_RUNNER_OFFLINE_GRACE_SECONDS: '2' });
    if (mode === 'team') await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  it('fails its running sessions with the reason and tells every viewer', async () => {
    const runner = await stack.startRunner({
      env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' },
    });
    model.script([{ match: 'FOREVER', steps: [{ holdUntil: 'forever', text: 'never' }] }]);
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: AGENT,
      prompt: 'FOREVER',
      workspace: tempDir('ws'),
    });
    const id = created.body.id;
    await expectEventually(async () => (await stack.api<Session>('GET', `/sessions/${id}`)).body.status === 'running');

    const socket = stack.webSocket();
    const updates: Session[] = [];
    socket.on('session.updated', (s: Session) => s.id === id && updates.push(s));
    await new Promise<void>((resolve) =>
      socket.on('connect', () => socket.emit('sessions.watch', {}, () => resolve())),
    );

    await runner.proc.kill('SIGKILL');
    const failed = await expectEventually(async () => {
      const s = (await stack.api<Session>('GET', `/sessions/${id}`)).body;
      return s.status === 'failed' ? s : null;
    }, 30_000);
    expect(failed.statusReason).toMatch(/runner has been offline since/);
    expect(failed.runnerOnline).toBe(false);
    await expectEventually(() => updates.some((u) => u.status === 'failed'));
    model.release('forever');
  });
});
