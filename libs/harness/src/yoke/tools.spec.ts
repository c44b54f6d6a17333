import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unifiedDiff } from './diff';
import { killAllShells, runShell } from './shell';
import { buildTools, toolSpecs, type ToolContext, type YokeTool } from './tools';
import { resolveInWorkspace } from './workspace';

describe('workspace paths', () => {
  let root: string;
  let ws: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'yoke-ws-'));
    ws = join(root, 'ws');
    mkdirSync(join(ws, 'sub'), { recursive: true });
    writeFileSync(join(root, 'secret.txt'), 'secret');
  });

  it('accepts relative paths and absolute paths inside the workspace', async () => {
    await expect(resolveInWorkspace(ws, 'sub/new.txt')).resolves.toMatchObject({ rel: 'sub/new.txt' });
    await expect(resolveInWorkspace(ws, join(ws, 'sub'))).resolves.toMatchObject({ rel: 'sub' });
    await expect(resolveInWorkspace(ws, 'sub/../a.txt')).resolves.toMatchObject({ rel: 'a.txt' });
    await expect(resolveInWorkspace(ws, '.')).resolves.toMatchObject({ rel: '.' });
  });

  it('refuses .. escapes, absolute paths outside, and symlinks that lead out', async () => {
    await expect(resolveInWorkspace(ws, '../secret.txt')).rejects.toThrow(/outside the workspace/);
    await expect(resolveInWorkspace(ws, join(root, 'secret.txt'))).rejects.toThrow(/outside the workspace/);
    await expect(resolveInWorkspace(ws, '/etc/passwd')).rejects.toThrow(/outside the workspace/);
    symlinkSync(root, join(ws, 'out'));
    await expect(resolveInWorkspace(ws, 'out/secret.txt')).rejects.toThrow(/symlink/);
    await expect(resolveInWorkspace(ws, 'out/new/file.txt')).rejects.toThrow(/symlink/);
    symlinkSync(join(root, 'nowhere.txt'), join(ws, 'dangling'));
    await expect(resolveInWorkspace(ws, 'dangling')).rejects.toThrow(/dangling symlink/);
    symlinkSync(join(ws, 'sub'), join(ws, 'inner'));
    await expect(resolveInWorkspace(ws, 'inner/x.txt')).resolves.toMatchObject({ rel: 'inner/x.txt' });
  });
});

describe('file tools', () => {
  let ws: string;
  const tools = buildTools({ shell: true, files: true });
  const tool = (name: string): YokeTool => tools.find((t) => t.name === name)!;
  const ctx = (): ToolContext => ({
    workspace: ws,
    signal: new AbortController().signal,
    shellTimeoutMs: 5_000,
    onOutput: () => undefined,
  });
  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'yoke-tools-'));
  });

  it('offers only the tools the agent enables, each with a JSON schema', () => {
    expect(buildTools({ shell: false, files: true }).map((t) => t.name)).toEqual([
      'read_file',
      'write_file',
      'edit_file',
      'list_files',
    ]);
    expect(buildTools({ shell: true, files: false }).map((t) => t.kind)).toEqual(['shell']);
    const [shell] = toolSpecs(buildTools({ shell: true, files: false }));
    expect(shell.parameters).toMatchObject({
      type: 'object',
      properties: { command: { type: 'string' } },
      required: ['command'],
    });
    expect(shell.parameters).not.toHaveProperty('$schema');
  });

  it('edit_file needs exactly one match', async () => {
    writeFileSync(join(ws, 'a.txt'), 'x = 1\nx = 1\ny = 2\n');
    const edit = tool('edit_file');
    expect(await edit.run({ path: 'a.txt', old_string: 'x = 1', new_string: 'x = 3' }, ctx())).toMatchObject({
      isError: true,
      output: expect.stringMatching(/matches 2 times/),
    });
    expect(await edit.run({ path: 'a.txt', old_string: 'z', new_string: '' }, ctx())).toMatchObject({
      isError: true,
      output: expect.stringMatching(/not found/),
    });
    expect(await edit.run({ path: 'none.txt', old_string: 'a', new_string: 'b' }, ctx())).toMatchObject({
      isError: true,
    });
    const ok = await edit.run({ path: 'a.txt', old_string: 'y = 2', new_string: 'y = $&' }, ctx());
    expect(ok).toMatchObject({ isError: false, fileChange: { path: 'a.txt' } });
    expect(readFileSync(join(ws, 'a.txt'), 'utf8')).toBe('x = 1\nx = 1\ny = $&\n');
  });

  it('reads, lists, and refuses to show binary files', async () => {
    mkdirSync(join(ws, 'd/e'), { recursive: true });
    writeFileSync(join(ws, 'd/e/f.txt'), 'hello');
    writeFileSync(join(ws, 'bin'), Buffer.from([1, 0, 2]));
    expect(await tool('read_file').run({ path: 'd/e/f.txt' }, ctx())).toEqual({ output: 'hello', isError: false });
    expect(await tool('read_file').run({ path: 'bin' }, ctx())).toMatchObject({
      isError: true,
      output: expect.stringMatching(/binary/),
    });
    expect((await tool('list_files').run({}, ctx())).output).toBe('bin\nd/\nd/e/\nd/e/f.txt');
  });
});

describe('unifiedDiff', () => {
  it('shows a new file and a change with context', () => {
    expect(unifiedDiff('n.txt', null, 'a\nb\n')).toBe('--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n');
    const before = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const after = before.replace('5', 'five');
    expect(unifiedDiff('f', before, after)).toBe(
      '--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n',
    );
  });
});

describe('runShell', () => {
  const signal = new AbortController().signal;
  // Login shells read the user's profile; the machine's own (version managers and the like) is not under test and
  // can take seconds. The agent's shells run with a private HOME inside Omnibox; these run with an empty one.
  const env = { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'yoke-shell-home-')) };
  afterAll(() => killAllShells());

  it('captures combined output and the exit code, keeping head and tail of long output', async () => {
    const r = await runShell('echo out; echo err >&2; exit 3', { cwd: tmpdir(), timeoutMs: 5_000, signal, env });
    expect(r).toMatchObject({ exitCode: 3, timedOut: false, cancelled: false });
    expect(r.output.split('\n').sort()).toEqual(['', 'err', 'out']);
    const long = await runShell('echo START; seq 1 100000; echo END', {
      cwd: tmpdir(),
      env,
      timeoutMs: 5_000,
      signal,
      maxOutputChars: 3000,
    });
    expect(long.output.length).toBeLessThan(3200);
    expect(long.output).toMatch(/^START\n/);
    expect(long.output).toMatch(/characters of output omitted/);
    expect(long.output).toMatch(/END\n$/);
  }, 20_000); // two real shells: on a loaded machine they outlast jest's default 5 s

  it('kills a command that runs past its timeout', async () => {
    const started = Date.now();
    const r = await runShell('sleep 20', { cwd: tmpdir(), timeoutMs: 200, signal, env });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(r.output).toMatch(/timed out/);
  });

  it('does not wait for background jobs that keep the output pipe open', async () => {
    const started = Date.now();
    const r = await runShell('sleep 20 & echo started', { cwd: tmpdir(), timeoutMs: 10_000, signal, env });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r).toMatchObject({ exitCode: 0, output: 'started\n' });
  });
});
