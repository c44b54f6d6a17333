import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Approval, DryRunReport, Item, OrgPolicies, Session } from '@yoke/protocol';
import { type FakeModel, startFakeModel } from '../fixtures/fake-model';
import { expectEventually, MODES } from '../support/env';
import { runCli, tempDir } from '../support/processes';
import { type RunnerProc, type Stack, startStack } from '../support/stack';

/** 2,000 input tokens of claude-sonnet-4-5 cost $0.006: two calls cross $0.01, nine pass $0.05. */
const CALL = { inputTokens: 2000, outputTokens: 0 };

const agent = (policies: string) => `name: helper
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
policies:
${policies}
`;

const COST_AGENT = agent('  - { type: cost_budget, name: budget, ask_at: [0.01], max: 0.05 }');
const PUSH_AGENT = agent(
  `  - type: after
    name: push-after-install
    if_earlier: { tool: shell, match: "npm (i|install|add) ", label: installed_package }
    then: { tool: shell, match: "git push" }
    reason: a new npm package was installed earlier in this session`,
);
const PLAIN_AGENT = `name: helper
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });
}

/** A workspace that is a git repository with one commit and a local bare remote (pushing never leaves the machine). */
function repoWorkspace(): { ws: string; remote: string } {
  const ws = tempDir('yoke-ws');
  git(ws, 'init', '-q', '-b', 'main');
  writeFileSync(join(ws, 'README.md'), 'hello\n');
  git(ws, 'add', '.');
  git(ws, 'commit', '-q', '-m', 'first');
  // The harness runs in Omnibox, where only the workspace is writable: the bare remote lives inside it (untracked).
  const remote = join(ws, '.remote.git');
  mkdirSync(remote);
  git(remote, 'init', '--bare', '-q', '-b', 'main');
  git(ws, 'remote', 'add', 'origin', remote);
  return { ws, remote };
}

const remoteHasMain = (remote: string) => {
  try {
    return git(remote, 'rev-parse', '--verify', '-q', 'refs/heads/main').trim().length > 0;
  } catch {
    return false;
  }
};

describe.each(MODES)('policies and approvals through the runner gate (%s mode)', (mode) => {
  let model: FakeModel;
  let stack: Stack;
  let runner: RunnerProc;

  beforeAll(async () => {
    model = await startFakeModel();
    stack = await startStack(mode);
    runner = await stack.startRunner({
      env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  const items = async (id: string) =>
    (await stack.api<{ items: Item[] }>('GET', `/sessions/${id}/items?afterSeq=0&limit=1000`)).body.items;
  const session = async (id: string) => (await stack.api<Session>('GET', `/sessions/${id}`)).body;
  const approvals = async (id: string) => (await stack.api<Approval[]>('GET', `/sessions/${id}/approvals`)).body;
  const turnsEnded = async (id: string) =>
    (await items(id)).filter((i) => i.type === 'turn_completed' || i.type === 'turn_failed').length;

  async function create(agentYaml: string, prompt: string, workspace = tempDir('yoke-ws'), extra = {}) {
    const r = await stack.api<Session>('POST', '/sessions', { agentYaml, prompt, workspace, ...extra });
    expect(r.status).toBe(201);
    return r.body;
  }

  async function send(id: string, text: string) {
    expect((await stack.api('POST', `/sessions/${id}/messages`, { text })).status).toBe(202);
  }

  async function pendingApproval(id: string): Promise<Approval> {
    let found: Approval | undefined;
    await expectEventually(async () => {
      found = (await approvals(id)).find((a) => a.status === 'pending');
      return found !== undefined;
    });
    return found!;
  }

  it('cost: pauses at the threshold until a human confirms, does not ask again, and the cap denies', async () => {
    model.script([
      {
        match: 'SPEND',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo a > a.txt' } }], usage: CALL },
          { toolCalls: [{ name: 'shell', input: { command: 'echo b > b.txt' } }], usage: CALL },
          { toolCalls: [{ name: 'shell', input: { command: 'echo c > c.txt' } }], usage: CALL },
          { text: 'Spent a little.', usage: CALL },
        ],
      },
      {
        match: 'SPLURGE',
        steps: [
          {
            toolCalls: [{ name: 'shell', input: { command: 'echo d > d.txt' } }],
            usage: { inputTokens: 12_000, outputTokens: 0 },
          },
          { text: 'never reached' },
        ],
      },
    ]);
    const ws = tempDir('yoke-ws');
    const s = await create(COST_AGENT, 'SPEND please', ws);

    // $0.012 after the second call: paused, and the second call's command waits.
    const ask = await pendingApproval(s.id);
    expect(ask.policy).toMatch(/budget/);
    expect(ask.reason).toMatch(/0\.01/);
    await expectEventually(async () => (await session(s.id)).status === 'paused');
    expect(existsSync(join(ws, 'a.txt'))).toBe(true);
    expect(existsSync(join(ws, 'b.txt'))).toBe(false);

    // A human confirms from the CLI; the turn goes on and crosses no threshold twice.
    const cli = await runCli(['approve', s.id, ask.approvalId], stack.cliEnv);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    await expectEventually(async () => (await turnsEnded(s.id)) === 1);
    let log = await items(s.id);
    expect(log.find((i) => i.type === 'turn_completed')).toBeDefined();
    expect(existsSync(join(ws, 'b.txt'))).toBe(true);
    expect(existsSync(join(ws, 'c.txt'))).toBe(true);
    expect(log.filter((i) => i.type === 'approval_request')).toHaveLength(1);
    expect((await session(s.id)).status).toBe('idle');

    // $0.024 + $0.036 passes the $0.05 cap: the turn stops, its tool call never runs, and prompts are refused.
    await send(s.id, 'SPLURGE now');
    await expectEventually(async () => (await turnsEnded(s.id)) === 2);
    log = await items(s.id);
    const failed = log.filter((i) => i.type === 'turn_failed');
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0])).toMatch(/cap|max/i);
    expect(existsSync(join(ws, 'd.txt'))).toBe(false);
    expect(log.some((i) => i.type === 'policy_decision' && i.verdict === 'deny')).toBe(true);

    await send(s.id, 'anything else');
    await expectEventually(async () => (await turnsEnded(s.id)) === 3);
    const last = (await items(s.id)).filter((i) => i.type === 'turn_failed').pop();
    expect(JSON.stringify(last)).toMatch(/denied by policy|cap|max/i);
  });

  it('git push after npm install asks with the reason; approve runs it, deny does not; a fresh session is not asked', async () => {
    model.script([
      {
        match: 'INSTALL',
        steps: [
          {
            toolCalls: [
              { name: 'shell', input: { command: 'npm install left-pad --offline --no-audit --no-fund || true' } },
            ],
          },
          { text: 'Installed.' },
        ],
      },
      {
        match: 'PUSH',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'git push -q origin HEAD:main' } }] },
          { text: 'Pushed (or not).' },
        ],
      },
    ]);

    // Fresh session: push alone is allowed without asking.
    const fresh = repoWorkspace();
    const a = await create(PUSH_AGENT, 'PUSH it', fresh.ws);
    await expectEventually(async () => (await turnsEnded(a.id)) === 1);
    expect(await approvals(a.id)).toEqual([]);
    expect(remoteHasMain(fresh.remote)).toBe(true);
    expect((await items(a.id)).some((i) => i.type === 'policy_decision' && i.verdict === 'allow')).toBe(true);

    // Install, then push: ASK with the reason; approved, the push runs.
    const approved = repoWorkspace();
    const b = await create(PUSH_AGENT, 'INSTALL left-pad', approved.ws);
    await expectEventually(async () => (await turnsEnded(b.id)) === 1);
    await send(b.id, 'PUSH it');
    const ask = await pendingApproval(b.id);
    expect(ask.reason).toMatch(/npm package was installed/);
    expect((await session(b.id)).status).toBe('waiting_approval');
    expect(remoteHasMain(approved.remote)).toBe(false);
    // Two clients answer: the first wins, the second is told it was already decided.
    const first = await stack.api('POST', `/sessions/${b.id}/approvals/${ask.approvalId}`, { decision: 'approve' });
    expect(first.status).toBe(200);
    const second = await runCli(['approve', b.id, ask.approvalId, '--deny'], stack.cliEnv);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/already approved/);
    await expectEventually(async () => (await turnsEnded(b.id)) === 2);
    expect(remoteHasMain(approved.remote)).toBe(true);

    // Install, push, deny: the push does not run and the agent is told why.
    const denied = repoWorkspace();
    const c = await create(PUSH_AGENT, 'INSTALL left-pad', denied.ws);
    await expectEventually(async () => (await turnsEnded(c.id)) === 1);
    await send(c.id, 'PUSH it');
    const ask2 = await pendingApproval(c.id);
    const no = await runCli(['approve', c.id, ask2.approvalId, '--deny'], stack.cliEnv);
    expect(no.code).toBe(0);
    await expectEventually(async () => (await turnsEnded(c.id)) === 2);
    expect(remoteHasMain(denied.remote)).toBe(false);
    const result = (await items(c.id)).filter((i) => i.type === 'tool_result').pop();
    expect(result).toMatchObject({ isError: true });
    expect(JSON.stringify(result)).toMatch(/denied/);

    // The state survives a runner restart: in the approved session, a later push is still gated.
    await runner.proc.kill('SIGKILL');
    await runner.restart();
    await send(b.id, 'PUSH it');
    const again = await pendingApproval(b.id);
    expect(again.approvalId).not.toBe(ask.approvalId);
    expect(again.reason).toMatch(/npm package was installed/);
    await stack.api('POST', `/sessions/${b.id}/approvals/${again.approvalId}`, { decision: 'deny' });
    await expectEventually(async () => (await turnsEnded(b.id)) === 3);

    // Dry-run: a set that denies pushes reports where it would have changed the recorded outcome.
    const file = join(tempDir('yoke-pol'), 'strict.yaml');
    writeFileSync(file, '- { type: deny_commands, name: no-push, patterns: ["git push"] }\n');
    const dry = await runCli(['policy', 'test', file, '--sessions', `${a.id},${b.id}`, '--json'], stack.cliEnv);
    expect(dry.code).toBe(1);
    const report = JSON.parse(dry.stdout) as DryRunReport;
    expect(report.sessions).toHaveLength(2);
    const onA = report.sessions.find((x) => x.sessionId === a.id)!;
    expect(onA.decisions).toEqual([
      expect.objectContaining({
        action: 'tool_call',
        verdict: 'deny',
        recorded: 'allow',
        summary: expect.stringMatching(/git push/),
      }),
    ]);
    const onB = report.sessions.find((x) => x.sessionId === b.id)!;
    expect(onB.counts.deny).toBe(2);
  });

  it('org policies: admins apply them, a session cannot loosen them, deny beats ask, and a broken policy denies', async () => {
    const file = join(tempDir('yoke-pol'), 'org.yaml');
    writeFileSync(
      file,
      [
        '- { type: deny_commands, name: no-rm, patterns: ["rm -rf"] }',
        '- { type: ask_on_tools, name: ask-shell, tools: [shell] }',
      ].join('\n'),
    );
    const applied = await runCli(['policy', 'apply', file], stack.cliEnv);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toMatch(/applied 2 org policies \(version \d+\)/);
    expect((await stack.api<OrgPolicies>('GET', '/policies')).body.count).toBe(2);

    // Invalid YAML is refused with its position and changes nothing.
    writeFileSync(file, '- { type: deny_commands, name: x, patterns: "not-a-list" }\n- { type: nope }\n');
    const refused = await runCli(['policy', 'apply', file], stack.cliEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/org-policies\.yaml:1:\d+/);
    expect((await stack.api<OrgPolicies>('GET', '/policies')).body.count).toBe(2);

    model.script([
      {
        match: 'CLEAN',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'bash -c "rm -rf build" && echo cleaned > out.txt' } }] },
          { text: 'Tried.' },
        ],
      },
    ]);
    const ws = tempDir('yoke-ws');
    // The session's own policy tries to allow everything: it cannot lift the org's deny (nor its ask).
    const s = await create(PLAIN_AGENT, 'CLEAN up', ws, {
      policiesYaml: '- { type: expr, name: allow-all, when: "true", verdict: allow }\n',
    });
    await expectEventually(async () => (await turnsEnded(s.id)) === 1);
    const decision = (await items(s.id)).find((i) => i.type === 'policy_decision' && i.action === 'tool_call');
    expect(decision).toMatchObject({ verdict: 'deny' });
    expect(JSON.stringify(decision)).toMatch(/no-rm/);
    expect(await approvals(s.id)).toEqual([]); // deny beats ask: nobody was asked
    expect(existsSync(join(ws, 'out.txt'))).toBe(false);

    // Fail closed: a policy that throws while deciding denies, with the reason.
    expect((await stack.api('PUT', '/policies', { yaml: '' })).status).toBe(200);
    model.script([
      {
        match: 'THROW',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo x > x.txt' } }] }, { text: 'ok' }],
      },
    ]);
    const ws2 = tempDir('yoke-ws');
    const t = await create(
      agent(
        '  - { type: expr, name: fragile, when: \'action.type == "tool_call" && action.input.no.such.field == 1\', verdict: deny }',
      ),
      'THROW please',
      ws2,
    );
    await expectEventually(async () => (await turnsEnded(t.id)) === 1);
    const d2 = (await items(t.id)).find((i) => i.type === 'policy_decision' && i.action === 'tool_call');
    expect(d2).toMatchObject({ verdict: 'deny' });
    expect(JSON.stringify(d2)).toMatch(/fragile/);
    expect(existsSync(join(ws2, 'x.txt'))).toBe(false);
  });
});
