import { ToolKind } from '@yoke/protocol';
import {
  codexChangeDiff,
  codexCommandArgv,
  codexFileChangeKind,
  displayPath,
  mcpToolKind,
  splitShellWords,
} from './tools';

describe('codex tool normalization', () => {
  it('splits codex command lines into argv', () => {
    expect(codexCommandArgv("/bin/bash -lc 'echo hi > out.txt'")).toEqual(['/bin/bash', '-lc', 'echo hi > out.txt']);
    expect(splitShellWords(`a "b \\"c\\" $d" e\\ f ''`)).toEqual(['a', 'b "c" $d', 'e f', '']);
    expect(splitShellWords("it's")).toBeNull();
    expect(codexCommandArgv("echo 'unbalanced")).toEqual(['/bin/sh', '-c', "echo 'unbalanced"]);
    expect(codexCommandArgv('')).toEqual(['/bin/sh', '-c', '']);
  });

  it('patches that only add files are writes; anything else edits', () => {
    const add = { kind: { type: 'add' } };
    expect(codexFileChangeKind([add, add])).toBe('file_write');
    expect(codexFileChangeKind([add, { kind: { type: 'update' } }])).toBe('file_edit');
    expect(codexFileChangeKind([{ kind: { type: 'delete' } }])).toBe('file_edit');
    expect(codexFileChangeKind([])).toBe('file_edit');
  });

  it('MCP tools become mcp:<server>/<tool> in the canonical form', () => {
    expect(mcpToolKind('docs', 'search')).toBe('mcp:docs/search');
    const odd = mcpToolKind('my server', 'a/b');
    expect(odd).toBe('mcp:my_server/a_b');
    expect(ToolKind.safeParse(odd).success).toBe(true);
  });

  it('shows workspace paths relative, others absolute', () => {
    expect(displayPath('/ws', '/ws/src/a.ts')).toBe('src/a.ts');
    expect(displayPath('/ws', '/etc/passwd')).toBe('/etc/passwd');
    expect(displayPath('/ws', 'rel.txt')).toBe('rel.txt');
  });

  it('turns codex file changes into unified diffs', () => {
    expect(codexChangeDiff('/ws', { path: '/ws/a.txt', kind: { type: 'add' }, diff: 'hello\n' })).toEqual({
      path: 'a.txt',
      diff: '--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,1 @@\n+hello\n',
    });
    expect(
      codexChangeDiff('/ws', {
        path: '/ws/a.txt',
        kind: { type: 'update' },
        diff: '@@ -1,2 +1,2 @@\n one\n-two\n+three\n',
      }),
    ).toEqual({ path: 'a.txt', diff: '--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n' });
    expect(codexChangeDiff('/ws', { path: '/ws/b.txt', kind: { type: 'delete' }, diff: '' }).diff).toBe(
      '--- a/b.txt\n+++ /dev/null\n',
    );
    expect(
      codexChangeDiff('/ws', { path: '/ws/a.txt', kind: { type: 'update', move_path: '/ws/b.txt' }, diff: '@@\n' })
        .diff,
    ).toBe('--- a/a.txt\n+++ b/b.txt\n@@\n');
  });
});
