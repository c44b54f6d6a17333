import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** A path a tool was asked to touch lies outside the session workspace (or is not a usable path). */
export class WorkspacePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspacePathError';
  }
}

export interface WorkspacePath {
  /** Absolute path under the workspace's real path. */
  abs: string;
  /** Path relative to the workspace, with `/` separators (`.` for the root). */
  rel: string;
}

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `input` inside `workspace`. Refuses `..` escapes, absolute paths outside the workspace, and symlinks
 * whose target (or whose nearest existing ancestor's target) is outside it.
 */
export async function resolveInWorkspace(workspace: string, input: string): Promise<WorkspacePath> {
  if (typeof input !== 'string' || input.trim() === '') throw new WorkspacePathError('path must be a non-empty string');
  if (input.includes('\0')) throw new WorkspacePathError('path must not contain NUL bytes');
  const root = await realpath(workspace);
  let abs: string;
  if (isAbsolute(input)) {
    // An absolute path is accepted only when it names something inside the workspace (as given or as real path).
    const viaGiven = relative(resolve(workspace), resolve(input));
    abs = isInside(resolve(workspace), resolve(input)) ? resolve(root, viaGiven) : resolve(input);
  } else {
    abs = resolve(root, input);
  }
  if (!isInside(root, abs)) throw new WorkspacePathError(`path "${input}" is outside the workspace`);

  // Follow symlinks: the deepest part of the path that exists must really live inside the workspace.
  let existing = abs;
  for (;;) {
    try {
      const real = await realpath(existing);
      if (!isInside(root, real)) {
        throw new WorkspacePathError(`path "${input}" resolves through a symlink to outside the workspace`);
      }
      break;
    } catch (e) {
      if (e instanceof WorkspacePathError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      if (await isSymlink(existing)) {
        throw new WorkspacePathError(`path "${input}" goes through a dangling symlink; refusing to follow it`);
      }
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  const rel = relative(root, abs).split(sep).join('/');
  return { abs, rel: rel === '' ? '.' : rel };
}

async function isSymlink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}
