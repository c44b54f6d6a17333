import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '@yoke/omnibox';
import { createHarnessAdapter, YokeHarnessAdapter, type HarnessEvent } from '@yoke/harness';
import { AgentSpec, type ItemBody, type SessionStartSpec } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../../../test/fixtures/fake-model';
import { createSessionSandbox, HOST_ALIAS, runnerSandboxFactory, sandboxModeFromEnv } from './sandbox';

describe('session sandbox: the yoke harness inside Omnibox, model traffic through the egress proxy', () => {
  let model: FakeModel;
  let dir: string;
  beforeAll(async () => {
    model = await startFakeModel();
    dir = mkdtempSync(join(tmpdir(), 'yoke-runner-sandbox-'));
  });
  afterAll(async () => {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails closed: without a working bwrap the session is refused with how to fix it', async () => {
    const agent = AgentSpec.parse({ name: 'a', prompt: 'p' });
    const spec = { sessionId: 's0', agent, harness: 'yoke', policies: [] } as unknown as SessionStartSpec;
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const factory = runnerSandboxFactory({ provider: {}, mode: 'omnibox' });
      const items: ItemBody[] = [];
      await expect(factory({ spec, workspace: dir, record: (i) => items.push(i) })).rejects.toThrow(
        /bwrap not found on PATH.*refuses to start harness sessions unsandboxed.*apt-get install bubblewrap.*YOKE_SANDBOX=none/s,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('an org policy may accept unsandboxed sessions where bwrap cannot run; an agent or session policy may not', async () => {
    const agent = AgentSpec.parse({ name: 'a', prompt: 'p' });
    const allowNone = { type: 'sandbox', name: 'no-bwrap-ok', allow_none: true };
    const specWith = (level: 'org' | 'agent' | 'session') =>
      ({
        sessionId: 's0',
        agent,
        harness: 'yoke',
        policies: [{ level, origin: `${level} policies`, spec: allowNone }],
      }) as unknown as SessionStartSpec;
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const factory = runnerSandboxFactory({ provider: {}, mode: 'omnibox' });
      for (const level of ['agent', 'session'] as const) {
        const items: ItemBody[] = [];
        await expect(factory({ spec: specWith(level), workspace: dir, record: (i) => items.push(i) })).rejects.toThrow(
          /bwrap not found on PATH/,
        );
        expect(items).toEqual([]);
      }
      const items: ItemBody[] = [];
      const box = await factory({ spec: specWith('org'), workspace: dir, record: (i) => items.push(i) });
      expect(box.mode).toBe('none');
      expect(items).toEqual([
        expect.objectContaining({
          type: 'notice',
          text: expect.stringMatching(/^sandbox: none — Omnibox cannot run on this runner.*an org policy allows/),
        }),
      ]);
    } finally {
      process.env.PATH = path;
    }
  });

  it('YOKE_SANDBOX=none is an explicit opt-out, recorded on the session as a notice', async () => {
    expect(sandboxModeFromEnv({})).toBe('omnibox');
    expect(sandboxModeFromEnv({ YOKE_SANDBOX: 'none' })).toBe('none');
    expect(() => sandboxModeFromEnv({ YOKE_SANDBOX: 'off' })).toThrow(/"omnibox".*"none"/);
    const agent = AgentSpec.parse({ name: 'a', prompt: 'p' });
    const spec = { sessionId: 's0', agent, harness: 'yoke', policies: [] } as unknown as SessionStartSpec;
    const items: ItemBody[] = [];
    const box = await runnerSandboxFactory({ provider: {}, mode: 'none' })({
      spec,
      workspace: dir,
      record: (i) => items.push(i),
    });
    expect(box.mode).toBe('none');
    expect(items).toEqual([expect.objectContaining({ type: 'notice', text: expect.stringMatching(/^sandbox: none/) })]);
  });

  it('completes a turn against the fake model; the model sees the real key, the harness only a placeholder', async () => {
    const workspace = join(dir, 'ws');
    require('node:fs').mkdirSync(workspace);
    const agent = AgentSpec.parse({ name: 'a', prompt: 'be brief' });
    const spec = { sessionId: 's1', agent, harness: 'yoke', policies: [] } as unknown as SessionStartSpec;
    const denials: unknown[] = [];
    const box = await createSessionSandbox({
      spec,
      workspace,
      provider: { anthropicBaseUrl: model.anthropicBaseUrl, anthropicApiKey: 'sk-ant-REAL-SECRET-123' },
      mode: 'omnibox',
      ca: await CertificateAuthority.create(),
      onDenied: (d) => denials.push(d),
    });
    expect(box.provider.anthropicBaseUrl).toContain(HOST_ALIAS);
    expect(box.provider.anthropicApiKey).toMatch(/^yoke-secret-anthropic-/);
    model.script([{ match: 'hello', steps: [{ text: 'Hi from the model.' }] }]);
    const events: HarnessEvent[] = [];
    const session = await new YokeHarnessAdapter().start({
      sessionId: 's1',
      agent,
      model: 'claude-test',
      workspace,
      stateDir: join(dir, 'state'),
      provider: box.provider,
      permission: async () => ({ behavior: 'allow' }),
      onEvent: (e) => events.push(e),
      launch: box.launch,
    });
    try {
      const out = await session.runTurn({
        turnId: 't1',
        content: [{ type: 'text', text: 'hello' }],
        actor: { id: 'u1', name: 'User' },
      });
      expect(out.stopReason).toBe('end_turn');
    } finally {
      await session.close();
      await box.close();
    }
    const req = model.requests.find((r) => JSON.stringify(r.body).includes('hello'));
    expect(req?.headers['x-api-key']).toBe('sk-ant-REAL-SECRET-123');
    expect(denials).toEqual([]);
  });
  it('a real CLI harness (Claude Code) completes a turn inside Omnibox; its model traffic goes through the proxy', async () => {
    const workspace = join(dir, 'ws-claude');
    require('node:fs').mkdirSync(workspace);
    const agent = AgentSpec.parse({
      name: 'c',
      prompt: 'be brief',
      harness: 'claude-code',
      model: 'claude-sonnet-4-5',
    });
    const spec = { sessionId: 's2', agent, harness: 'claude-code', policies: [] } as unknown as SessionStartSpec;
    const denials: { host: string }[] = [];
    const box = await createSessionSandbox({
      spec,
      workspace,
      provider: { anthropicBaseUrl: model.anthropicBaseUrl, anthropicApiKey: 'sk-ant-REAL-CLAUDE-456' },
      mode: 'omnibox',
      ca: await CertificateAuthority.create(),
      onDenied: (d) => denials.push(d),
    });
    model.requests.length = 0;
    model.script([{ match: 'PING-CLAUDE', steps: [{ text: 'Pong from inside.' }] }]);
    const events: HarnessEvent[] = [];
    const session = await createHarnessAdapter('claude-code').start({
      sessionId: 's2',
      agent,
      model: null,
      workspace,
      stateDir: join(dir, 'state-claude'),
      provider: box.provider,
      permission: async () => ({ behavior: 'allow' }),
      onEvent: (e) => events.push(e),
      launch: box.launch,
    });
    try {
      const out = await session.runTurn({
        turnId: 't1',
        content: [{ type: 'text', text: 'PING-CLAUDE' }],
        actor: { id: 'u1', name: 'User' },
      });
      expect(out.stopReason).toBe('end_turn');
    } finally {
      await session.close();
      await box.close();
    }
    // the model's answer came back as an item of the session
    expect(JSON.stringify(events.filter((e) => e.kind === 'item'))).toContain('Pong from inside.');
    const req = model.requests.find((r) => JSON.stringify(r.body).includes('PING-CLAUDE'));
    expect(req?.headers['x-api-key']).toBe('sk-ant-REAL-CLAUDE-456');
  });
});
