import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** How a fork's workspace was made from the original's. */
export type WorkspaceCopy =
  | { kind: 'git'; branch: string; entries: number }
  | { kind: 'copy'; entries: number }
  | { kind: 'failed'; reason: string };

/**
 * Git runs with the original repository's hooks, fsmonitor and pager switched off: copying a workspace never runs a
 * program the workspace names.
 */
const SAFE_GIT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'core.pager=cat'];

/** The branch a fork works on: `yoke/fork-` and the first block of its session id. */
export function forkBranch(forkSessionId: string): string {
  return `yoke/fork-${forkSessionId.split('-')[0]}`;
}

/**
 * Copies the original session's workspace (`source`) into a fork's empty one (`dest`), as it is now: every file and
 * folder, untracked and uncommitted ones included. Symlinks are copied as links (never followed out of the
 * workspace); sockets, FIFOs and devices are skipped.
 *
 * A git workspace becomes a local clone (its own `.git`: the fork works inside its sandbox without the original's)
 * checked out on its own branch `yoke/fork-<id>` at the original's HEAD, with the working tree copied over it, so
 * uncommitted changes stay uncommitted. The clone's hooks are git's defaults, never the original's.
 */
export function copyWorkspace(source: string, dest: string, forkSessionId: string): WorkspaceCopy {
  try {
    if (isGitRepo(source) && hasCommit(source)) {
      const branch = forkBranch(forkSessionId);
      clearDir(dest);
      git(dest, ['clone', '--quiet', '--no-checkout', '--local', source, dest]);
      git(dest, ['checkout', '--quiet', '-B', branch, 'HEAD']);
      // The checkout wrote HEAD's files; the original's working tree (its edits, new and deleted files) replaces them.
      clearDir(dest, ['.git']);
      const entries = copyTree(source, dest);
      return { kind: 'git', branch, entries };
    }
    return { kind: 'copy', entries: copyTree(source, dest) };
  } catch (err) {
    return { kind: 'failed', reason: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

/** What a fork's timeline says of its workspace (one notice). */
export function describeCopy(copy: WorkspaceCopy): { level: 'info' | 'warning'; text: string } {
  switch (copy.kind) {
    case 'git':
      return {
        level: 'info',
        text: `workspace copied from the original session as it was when forked (${counted(copy.entries)}), on its own git branch ${copy.branch}`,
      };
    case 'copy':
      return {
        level: 'info',
        text: `workspace copied from the original session as it was when forked (${counted(copy.entries)})`,
      };
    case 'failed':
      return { level: 'warning', text: `the original session's workspace could not be copied: ${copy.reason}` };
  }
}

function counted(entries: number): string {
  return entries === 1 ? '1 file or folder' : `${entries} files and folders`;
}

/** `dir` has a `.git` of its own (a directory, or a worktree's `.git` file). */
export function isGitRepo(dir: string): boolean {
  return existsSync(join(dir, '.git'));
}

function hasCommit(dir: string): boolean {
  try {
    git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD']);
    return true;
  } catch {
    return false;
  }
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', [...SAFE_GIT, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
    timeout: 120_000,
  });
}

/** Copies `source`'s tree (without `.git`) into `dest`; returns how many files, folders and links it copied. */
function copyTree(source: string, dest: string): number {
  let entries = 0;
  for (const name of readdirSync(source)) {
    if (name === '.git') continue;
    cpSync(join(source, name), join(dest, name), {
      recursive: true,
      verbatimSymlinks: true,
      errorOnExist: false,
      force: true,
      filter: (src) => {
        const info = lstatSync(src);
        const keep = info.isFile() || info.isDirectory() || info.isSymbolicLink();
        if (keep) entries++;
        return keep;
      },
    });
  }
  return entries;
}

function clearDir(dir: string, keep: string[] = []): void {
  for (const name of readdirSync(dir)) {
    if (!keep.includes(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}
