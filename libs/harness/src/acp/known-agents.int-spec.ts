import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { withAcpAgents } from '../../../../test/fixtures/acp-agents-path';
import type { FakeModelStep } from '../../../../test/fixtures/fake-model';
import type { HarnessSession, PermissionHook, ProviderEnv } from '../adapter';
import { AcpAdapter } from './adapter';
import { adapterRig, testAgent } from '../../test/adapter-kit';

jest.setTimeout(180_000);

interface KnownAgentCase {
  label: string;
  harness: string;
  model: string;
  shell: (command: string) => FakeModelStep;
  write: (path: string, content: string) => FakeModelStep;
  provider: (fake: { geminiBaseUrl: string; openaiBaseUrl: string }) => ProviderEnv;
  /** The request path the model calls go to. */
  path: RegExp;
  /** The exit code the agent reports for a command that succeeded (Gemini CLI's ACP mode reports none). */
  exitCode: number | null;
}

const CASES: KnownAgentCase[] = [
  {
    label: 'Gemini CLI',
    harness: 'acp:gemini --acp',
    model: 'gemini-2.5-pro',
    shell: (command) => ({ toolCalls: [{ name: 'run_shell_command', input: { command } }] }),
    write: (file_path, content) => ({ toolCalls: [{ name: 'write_file', input: { file_path, content } }] }),
    provider: (fake) => ({ geminiBaseUrl: fake.geminiBaseUrl, geminiApiKey: 'test-key' }),
    path: /^\/v1beta\/models\/gemini-2\.5-pro:streamGenerateContent$/,
    exitCode: null,
  },
  {
    label: 'OpenCode',
    harness: 'acp:opencode acp',
    model: 'gpt-5.5',
    shell: (command) => ({ toolCalls: [{ name: 'bash', input: { command, description: 'run it' } }] }),
    // With a GPT model OpenCode offers `apply_patch` (not `write`/`edit`).
    write: (path, content) => ({
      toolCalls: [
        {
          name: 'apply_patch',
          input: {
            patchText: `*** Begin Patch\n*** Add File: ${basename(path)}\n+${content.trimEnd()}\n*** End Patch`,
          },
        },
      ],
    }),
    provider: (fake) => ({ openaiBaseUrl: fake.openaiBaseUrl, openaiApiKey: 'test-key' }),
    path: /^\/v1\/chat\/completions$/,
    exitCode: 0,
  },
];

/**
 * The ACP agents Yoke knows, as installed from npm (the root devDependencies, found on PATH like a user's), in ACP mode
 * against the fake model, unsandboxed (the sandboxed runs are in test/e2e/harness-swap.e2e-spec.ts): each asks before
 * every tool call, and its commands and edits map to faithful items.
 */
describe.each(CASES)('AcpAdapter with $label ($harness)', (c) => {
  const rig = adapterRig('acp-known');
  const { turn, items } = rig;
  const path = process.env.PATH;
  beforeAll(() => {
    process.env.PATH = withAcpAgents(path);
  });
  afterAll(() => {
    process.env.PATH = path;
  });

  const start = (permission?: PermissionHook): Promise<HarnessSession> =>
    rig.launch(
      new AcpAdapter(c.harness, { killGraceMs: 500 }),
      { agent: testAgent({ harness: c.harness, model: c.model }), provider: c.provider(rig.fake) },
      permission,
    );

  it('asks before the shell call, runs it, reports its exit code, streams the answer and reports usage', async () => {
    await rig.expectShellTurn({
      start: () => start(),
      shell: c.shell,
      ask: { nativeTool: 'execute', input: expect.objectContaining({ command: 'echo hi > out.txt' }) },
      order: ['tool_call', 'command', 'tool_result', 'agent_message_delta', 'agent_message', 'usage'],
    });
    expect(items().find((i) => i.type === 'command')).toMatchObject({
      argv: ['bash', '-lc', 'echo hi > out.txt'],
      exitCode: c.exitCode,
    });
    expect(items().filter((i) => i.type === 'notice')).toEqual([]);
    const calls = rig.fake.requests.filter((r) => r.api !== null);
    expect(calls.every((r) => c.path.test(r.path))).toBe(true);
    const key = calls[0].headers['x-goog-api-key'] ?? calls[0].headers.authorization;
    expect(key).toMatch(/test-key$/);
  });

  it('a refused call does not run, its result is the refusal, and the model is called again', async () => {
    await rig.expectRefusedTurn(start, c.shell);
    expect(existsSync(join(rig.workspace, 'out.txt'))).toBe(false);
    expect(items().find((i) => i.type === 'agent_message')).toMatchObject({ text: 'Understood.' });
  });

  it('a file write is asked about, then reported as a file_change with a diff', async () => {
    rig.fake.script([
      { match: 'WRITE', steps: [c.write(join(rig.workspace, 'hello.txt'), 'hello\n'), { text: 'Written.' }] },
    ]);
    const session = await start();
    await turn(session, 'WRITE the file');
    expect(readFileSync(join(rig.workspace, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(rig.asked).toHaveLength(1);
    expect(rig.asked[0].tool).toBe('file_edit');
    expect(items().find((i) => i.type === 'file_change')).toMatchObject({
      path: 'hello.txt',
      diff: expect.stringMatching(/^--- \/dev\/null\n\+\+\+ b\/hello\.txt\n@@ -0,0 \+1,1 @@\n\+hello\n/),
    });
  });
});
