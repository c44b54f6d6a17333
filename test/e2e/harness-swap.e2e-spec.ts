import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Approval, Item, Session } from '@yoke/protocol';
import { testAcpAgentHarness } from '../fixtures/acp-agent';
import { withAcpAgents } from '../fixtures/acp-agents-path';
import { startFakeModel, type FakeModel, type FakeModelStep } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * Swappable in one YAML line: the same agent, run through the whole system (server + runner, sandboxed harness
 * processes) on every harness by changing only `harness:`. Each run executes the scripted shell call in its
 * workspace and records the same canonical item sequence. The harness is orthogonal to the deployment shape, so
 * this runs in the first mode of MODES only.
 */

const agentYaml = (harness: string, policies = '') => `name: swapper
prompt: You are a careful coding assistant.
harness: ${harness}
model: claude-sonnet-4-5
tools: { shell: true, files: true }
${policies}`;

const NO_TOUCH = 'policies:\n  - { type: deny_commands, name: no-touch, patterns: ["touch"] }\n';
const ASK_SHELL = 'policies:\n  - { type: ask_on_tools, name: ask-shell, tools: [shell] }\n';

const named =
  (name: string, input: (command: string) => unknown) =>
  (command: string): FakeModelStep => ({ toolCalls: [{ name, input: input(command) }] });

/** The scripted shell call, in each harness's own tool vocabulary (the fake model plays the model's part). */
const HARNESSES: { harness: string; label: string; shell: (command: string) => FakeModelStep }[] = [
  { label: 'yoke', harness: 'yoke', shell: named('shell', (command) => ({ command })) },
  {
    label: 'claude-code',
    harness: 'claude-code',
    shell: named('Bash', (command) => ({ command, description: 'write the file' })),
  },
  {
    label: 'claude-sdk',
    harness: 'claude-sdk',
    shell: named('Bash', (command) => ({ command, description: 'write the file' })),
  },
  { label: 'codex', harness: 'codex', shell: named('exec_command', (cmd) => ({ cmd })) },
  { label: 'pi', harness: 'pi', shell: named('bash', (command) => ({ command })) },
  { label: 'openai-agents', harness: 'openai-agents', shell: named('shell', (command) => ({ command })) },
  { label: 'acp', harness: testAcpAgentHarness(), shell: named('shell', (command) => ({ command })) },
  { label: 'gemini', harness: 'acp:gemini --acp', shell: named('run_shell_command', (command) => ({ command })) },
  {
    label: 'opencode',
    harness: 'acp:opencode acp',
    shell: named('bash', (command) => ({ command, description: 'write the file' })),
  },
];

describe.each(MODES.slice(0, 1))('one agent YAML on every harness, swapped in one line (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack(mode);
    await stack.startRunner({
      env: {
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        OPENAI_BASE_URL: model.openaiBaseUrl,
        OPENAI_API_KEY: 'test-key',
        GOOGLE_GEMINI_BASE_URL: model.geminiBaseUrl,
        GEMINI_API_KEY: 'test-key',
        // The npm-installed ACP agents (`gemini`, `opencode`) are found on the runner's PATH, as a user's would be.
        PATH: withAcpAgents(),
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  async function history(sessionId: string): Promise<Item[]> {
    const r = await stack.api<{ items: Item[] }>('GET', `/sessions/${sessionId}/items?afterSeq=0`);
    expect(r.status).toBe(200);
    return r.body.items;
  }

  it.each(HARNESSES.map((h) => [h.label, h] as const))(
    '%s: the shell call runs in the workspace and the items have the canonical shape',
    async (label, target) => {
      const token = `SWAP-${label}`;
      model.script([{ match: token, steps: [target.shell(`echo ${label} > out.txt`), { text: `Wrote out.txt.` }] }]);
      const workspace = tempDir('yoke-ws');
      const created = await stack.api<Session>('POST', '/sessions', {
        agentYaml: agentYaml(target.harness),
        prompt: `${token}: write the file`,
        workspace,
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      await expectEventually(
        async () => (await history(id)).some((i) => i.type === 'turn_completed' || i.type === 'turn_failed'),
        180_000,
      );
      const items = await history(id);
      expect(items.find((i) => i.type === 'turn_failed')).toBeUndefined();

      // The shell call really ran, inside this session's workspace.
      expect(existsSync(join(workspace, 'out.txt'))).toBe(true);
      expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe(`${label}\n`);

      // The same canonical sequence, whatever the harness.
      const shape = items
        .map((i) => i.type)
        .filter((t) =>
          ['turn_started', 'user_message', 'tool_call', 'tool_result', 'agent_message', 'turn_completed'].includes(t),
        );
      expect(shape).toEqual([
        'turn_started',
        'user_message',
        'tool_call',
        'tool_result',
        'agent_message',
        'turn_completed',
      ]);
      const call = items.find((i) => i.type === 'tool_call') as Item & { tool: string; callId: string };
      expect(call.tool).toBe('shell');
      expect(items.find((i) => i.type === 'tool_result')).toMatchObject({ callId: call.callId, isError: false });
      expect(items.find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Wrote out.txt.' });
      const usage = items.filter((i) => i.type === 'usage') as (Item & { costUsd: number; model: string })[];
      expect(usage.length).toBeGreaterThan(0);
      for (const u of usage) expect(u.costUsd).toBeGreaterThan(0);
      const session = (await stack.api<Session>('GET', `/sessions/${id}`)).body;
      expect(session).toMatchObject({ harness: target.harness, status: 'idle' });
      expect(session.costUsd).toBeGreaterThan(0);
    },
  );

  it.each(HARNESSES.map((h) => [h.label, h] as const))(
    '%s: a call the policy refuses does not run, and the agent hears the refusal',
    async (label, target) => {
      const token = `REFUSE-${label}`;
      model.script([
        { match: token, steps: [target.shell('touch secret.txt'), { text: 'Understood, not touching.' }] },
      ]);
      const workspace = tempDir('yoke-ws');
      const created = await stack.api<Session>('POST', '/sessions', {
        agentYaml: agentYaml(target.harness, NO_TOUCH),
        prompt: `${token}: touch the file`,
        workspace,
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      await expectEventually(
        async () => (await history(id)).some((i) => i.type === 'turn_completed' || i.type === 'turn_failed'),
        180_000,
      );
      const items = await history(id);
      expect(items.find((i) => i.type === 'turn_failed')).toBeUndefined();
      expect(existsSync(join(workspace, 'secret.txt'))).toBe(false);
      const call = items.find((i) => i.type === 'tool_call') as Item & { tool: string; callId: string };
      expect(call.tool).toBe('shell');
      expect(items.find((i) => i.type === 'policy_decision' && i.action === 'tool_call')).toMatchObject({
        verdict: 'deny',
      });
      expect(items.find((i) => i.type === 'tool_result')).toMatchObject({ callId: call.callId, isError: true });
      // The model was called again after the refusal and answered.
      expect(model.requests.filter((r) => JSON.stringify(r.body).includes(token)).length).toBeGreaterThanOrEqual(2);
      expect(items.find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Understood, not touching.' });
    },
  );

  it.each(HARNESSES.map((h) => [h.label, h] as const))(
    '%s: a call the policy asks about waits for a human, then runs',
    async (label, target) => {
      const token = `ASK-${label}`;
      model.script([{ match: token, steps: [target.shell('echo asked > asked.txt'), { text: 'Done after asking.' }] }]);
      const workspace = tempDir('yoke-ws');
      const created = await stack.api<Session>('POST', '/sessions', {
        agentYaml: agentYaml(target.harness, ASK_SHELL),
        prompt: `${token}: write the file once allowed`,
        workspace,
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      let approval: Approval | undefined;
      await expectEventually(async () => {
        const listed = await stack.api<Approval[]>('GET', `/sessions/${id}/approvals`);
        approval = listed.body.find((a) => a.status === 'pending');
        return approval !== undefined;
      }, 180_000);
      // Held at the approval: nothing ran, the session waits for a person.
      expect(existsSync(join(workspace, 'asked.txt'))).toBe(false);
      expect((await stack.api<Session>('GET', `/sessions/${id}`)).body.status).toBe('waiting_approval');
      const items = await history(id);
      const call = items.find((i) => i.type === 'tool_call') as Item & { tool: string; callId: string };
      expect(call.tool).toBe('shell');
      expect(items.find((i) => i.type === 'approval_request')).toMatchObject({ approvalId: approval!.approvalId });

      const decided = await stack.api('POST', `/sessions/${id}/approvals/${approval!.approvalId}`, {
        decision: 'approve',
      });
      expect(decided.status).toBe(200);
      await expectEventually(
        async () => (await history(id)).some((i) => i.type === 'turn_completed' || i.type === 'turn_failed'),
        180_000,
      );
      const after = await history(id);
      expect(after.find((i) => i.type === 'turn_failed')).toBeUndefined();
      expect(readFileSync(join(workspace, 'asked.txt'), 'utf8')).toBe('asked\n');
      expect(after.find((i) => i.type === 'tool_result')).toMatchObject({ callId: call.callId, isError: false });
      expect(after.find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Done after asking.' });
    },
  );

  it('an ACP agent missing from the runner fails the turn naming the PATH searched and how to install it', async () => {
    const created = await stack.api<Session>('POST', '/sessions', {
      agentYaml: agentYaml('acp:no-such-agent --acp'),
      prompt: 'MISSING: hello',
      workspace: tempDir('yoke-ws'),
    });
    expect(created.status).toBe(201);
    let failed: (Item & { error: string }) | undefined;
    await expectEventually(async () => {
      failed = (await history(created.body.id)).find((i) => i.type === 'turn_failed') as typeof failed;
      return failed !== undefined;
    }, 60_000);
    expect(failed!.error).toMatch(/"no-such-agent" is not on this runner's PATH \(.*node_modules\/\.bin.*\)/);
    expect(failed!.error).toMatch(/install it on the runner .*or give its absolute path/);
  });
});
