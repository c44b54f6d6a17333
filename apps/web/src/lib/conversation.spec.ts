import type { Item } from '@yoke/protocol';
import {
  foldItems,
  formatDuration,
  inputGist,
  splitExitCode,
  summarizeAction,
  unwrapShell,
  unwrapShellText,
} from '@/lib/conversation';

const SID = '00000000-0000-4000-8000-000000000001';
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
let seq = 0;
const item = (body: Record<string, unknown>, ms = 0): Item =>
  ({ seq: ++seq, sessionId: SID, createdAt: at(ms), ...body }) as Item;

describe('foldItems', () => {
  beforeEach(() => {
    seq = 0;
  });

  it('folds a call, its command and its result into one row, in the place of the call', () => {
    const items = [
      item({ type: 'user_message', content: [{ type: 'text', text: 'go' }] }),
      item({ type: 'policy_decision', action: 'tool_call', callId: 'c1', verdict: 'allow', policies: [], reasons: [] }),
      item({
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'ls' },
        status: 'pending',
      }),
      item({ type: 'agent_message', text: 'meanwhile' }),
      item({ type: 'command', callId: 'c1', argv: ['bash', '-lc', 'ls'], cwd: '/w', exitCode: 0, output: 'a\n' }, 1200),
      item({ type: 'tool_result', callId: 'c1', output: 'a\n[exit code: 0]', isError: false }, 1200),
    ];
    const rows = foldItems(items, { showAllowed: false });
    expect(rows.map((r) => r.seqs)).toEqual([[1], [3, 5, 6], [4]]);
    expect(foldItems(items, { showAllowed: true }).map((r) => r.seqs)).toEqual([[1], [2], [3, 5, 6], [4]]);
  });

  it('keeps ask and deny decisions, and gives an approval request its tool call', () => {
    const items = [
      item({
        type: 'tool_call',
        callId: 'c2',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: 'rm -rf x' },
        status: 'pending',
      }),
      item({ type: 'policy_decision', callId: 'c2', verdict: 'ask', policies: ['ask-shell'], reasons: [] }),
      item({ type: 'approval_request', approvalId: 'a1', callId: 'c2', policy: 'ask-shell', reason: 'r', options: [] }),
      item({ type: 'policy_decision', verdict: 'deny', policies: ['no-rm'], reasons: [] }),
    ];
    const rows = foldItems(items, { showAllowed: false });
    expect(rows.map((r) => r.seqs)).toEqual([[1], [2], [3], [4]]);
    const approval = rows[2];
    expect(approval.kind === 'item' && approval.call?.callId).toBe('c2');
  });
});

describe('summarizeAction', () => {
  it('reads "Ran <command> · exit 0 · 1.2 s" without the shell wrapper or the exit code line', () => {
    const s = summarizeAction({
      callId: 'c1',
      call: item({
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'bash',
        input: {},
        status: 'pending',
      }) as never,
      command: null,
      result: item({ type: 'tool_result', callId: 'c1', output: 'ok\n[exit code: 0]', isError: false }, 1200) as never,
    });
    expect(s).toMatchObject({ verb: 'Ran', state: 'ok', exitCode: 0, durationMs: 1200, output: 'ok' });
  });

  it('marks a non-zero exit as failed and a denied call as denied', () => {
    const call = (status: string) =>
      item({
        type: 'tool_call',
        callId: 'c',
        tool: 'file_edit',
        nativeTool: 'Edit',
        input: { path: 'src/a.ts' },
        status,
      }) as never;
    const failed = summarizeAction({
      callId: 'c',
      call: call('pending'),
      command: item({
        type: 'command',
        callId: 'c',
        argv: ['sh', '-c', 'false'],
        cwd: '',
        exitCode: 1,
        output: '',
      }) as never,
      result: null,
    });
    expect(failed).toMatchObject({ state: 'failed', exitCode: 1, target: 'false' });
    expect(summarizeAction({ callId: 'c', call: call('denied'), command: null, result: null })).toMatchObject({
      verb: 'Blocked',
      target: 'src/a.ts',
      state: 'denied',
      durationMs: null,
    });
    expect(summarizeAction({ callId: 'c', call: call('running'), command: null, result: null }).verb).toBe('Editing');
  });
});

describe('shell text', () => {
  it('unwraps bash -lc in argv and in quoted text', () => {
    expect(unwrapShell(['bash', '-lc', "echo 'hi' && npm test"])).toBe("echo 'hi' && npm test");
    expect(unwrapShell(['git', 'status'])).toBe('git status');
    expect(unwrapShellText("bash -lc 'echo '\\''hi'\\'''")).toBe("echo 'hi'");
    expect(inputGist({ argv: ['/bin/bash', '-c', 'make'] })).toBe('make');
    expect(inputGist({ command: 'npm test' })).toBe('npm test');
  });

  it('splits the exit code line off a result', () => {
    expect(splitExitCode('out\n[exit code: 2]')).toEqual({ output: 'out', exitCode: 2 });
    expect(splitExitCode('plain')).toEqual({ output: 'plain', exitCode: null });
  });

  it('formats durations', () => {
    expect(formatDuration(1200)).toBe('1.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});
