import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWorkspace, describeCopy, forkBranch } from './workspace-fork';
import { listWorkspace } from './workspace-files';

const FORK_ID = '3f2c9a10-0000-4000-8000-000000000001';

/** Real directories and a real git: what a fork's workspace holds after the runner made it. */
describe('copyWorkspace', () => {
  let root: string;
  let source: string;
  let dest: string;

  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
      cwd,
      encoding: 'utf8',
    }).trim();

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'yoke-fork-'));
    source = join(root, 'original');
    dest = join(root, 'fork');
    mkdirSync(join(source, 'src'), { recursive: true });
    mkdirSync(dest);
    writeFileSync(join(source, 'README.md'), '# app\n');
    writeFileSync(join(source, 'src', 'a.ts'), 'export const a = 1;\n');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('copies a plain workspace, folders and files, links as links', async () => {
    symlinkSync('/etc/passwd', join(source, 'outside'));
    const copy = copyWorkspace(source, dest, FORK_ID);
    expect(copy).toEqual({ kind: 'copy', entries: 4 });
    expect(readFileSync(join(dest, 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(readFileSync(join(dest, 'README.md'), 'utf8')).toBe('# app\n');
    expect(readlinkSync(join(dest, 'outside'))).toBe('/etc/passwd');
    expect(describeCopy(copy).text).toBe(
      'workspace copied from the original session as it was when forked (4 files and folders)',
    );
    // The original is untouched by what the fork then does.
    writeFileSync(join(dest, 'src', 'a.ts'), 'changed\n');
    expect(readFileSync(join(source, 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
  });

  it('forks a git workspace as a clone on its own branch, with uncommitted and untracked work kept as such', async () => {
    git(source, 'init', '-q', '-b', 'main');
    git(source, 'add', '.');
    git(source, 'commit', '-q', '-m', 'first');
    const head = git(source, 'rev-parse', 'HEAD');
    writeFileSync(join(source, 'src', 'a.ts'), 'export const a = 2;\n');
    writeFileSync(join(source, 'NOTES.txt'), 'untracked\n');
    rmSync(join(source, 'README.md'));
    mkdirSync(join(source, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(source, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\ntouch "$PWD/HOOK-RAN"\n', {
      mode: 0o755,
    });

    const copy = copyWorkspace(source, dest, FORK_ID);
    expect(copy).toEqual({ kind: 'git', branch: forkBranch(FORK_ID), entries: 3 });
    expect(forkBranch(FORK_ID)).toBe('yoke/fork-3f2c9a10');
    expect(git(dest, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('yoke/fork-3f2c9a10');
    expect(git(dest, 'rev-parse', 'HEAD')).toBe(head);
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: dest, encoding: 'utf8' });
    expect(status.split('\n').filter(Boolean).sort()).toEqual([' D README.md', ' M src/a.ts', '?? NOTES.txt']);
    expect(readFileSync(join(dest, 'src', 'a.ts'), 'utf8')).toBe('export const a = 2;\n');
    // Its own repository (it works without the original's), and none of the original's hooks ran.
    expect(git(dest, 'rev-parse', '--git-dir')).toBe('.git');
    expect(existsSync(join(dest, 'HOOK-RAN')) || existsSync(join(source, 'HOOK-RAN'))).toBe(false);
    expect((await listWorkspace(dest, '')).entries.map((e) => e.name)).toEqual(['src', 'NOTES.txt']);
    expect((await listWorkspace(dest, '')).isGitRepo).toBe(true);
    // The original keeps its branch and its work.
    expect(git(source, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(describeCopy(copy).text).toContain('on its own git branch yoke/fork-3f2c9a10');
  });

  it('copies a git workspace with no commit yet as plain files', () => {
    git(source, 'init', '-q');
    expect(copyWorkspace(source, dest, FORK_ID)).toEqual({ kind: 'copy', entries: 3 });
    expect(readFileSync(join(dest, 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
  });

  it('reports a failure instead of throwing', () => {
    const copy = copyWorkspace(join(root, 'missing'), dest, FORK_ID);
    expect(copy.kind).toBe('failed');
    expect(describeCopy(copy).level).toBe('warning');
  });
});
