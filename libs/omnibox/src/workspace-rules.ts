import { realpathSync, statSync } from 'node:fs';
import {
  checkWorkspacePath,
  isWithin,
  refuseWorkspace,
  type WorkspacePathCheck,
  type WorkspaceRefusal,
} from '@yoke/protocol';

export type { WorkspaceRefusal };

export interface WorkspaceContext {
  /** The home directory of the user the runner acts for. */
  home: string;
  /** The runner's own state directory (credentials, outboxes, harness homes). */
  runnerHome: string;
  /** The runner's uid: a workspace is a directory this user owns. */
  uid: number;
}

/** `ok` carries the real path (symlinks resolved): the directory that is bound, not the name it was asked by. */
export type WorkspaceCheck = WorkspacePathCheck;

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Whether `path` may be a session's workspace on this machine: an existing directory the runner's user owns,
 * neither `/`, a system directory, the home directory or one of its ancestors, nor inside the runner's own state.
 * Symlinks are resolved first, so a link to a refused place is refused. (The runner's own `workspaces/<id>`
 * directories are not requested workspaces and are not checked here.)
 */
export function checkWorkspace(path: string, ctx: WorkspaceContext): WorkspaceCheck {
  const lexical = checkWorkspacePath(path);
  if (!lexical.ok) return lexical;
  const refuse = (reason: string, hint: string): { ok: false; refusal: WorkspaceRefusal } =>
    refuseWorkspace(path, reason, hint);

  let real: string;
  try {
    real = realpathSync(lexical.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? refuse(
          'does not exist',
          `create the project directory first (mkdir -p ${lexical.path}), or pick an existing one`,
        )
      : refuse(`cannot be resolved (${code ?? 'error'})`, 'use a project directory the runner can read');
  }
  const via = real === lexical.path ? '' : `resolves to ${real}, which `;
  if (real !== lexical.path) {
    const resolved = checkWorkspacePath(real);
    if (!resolved.ok) return refuse(`${via}${resolved.refusal.reason}`, resolved.refusal.hint);
  }
  const stat = statSync(real);
  if (!stat.isDirectory()) return refuse(`${via}is not a directory`, 'use the project directory that holds it');

  const home = realOrSelf(ctx.home);
  const example = `${home === '/' ? '' : home}/my-project`;
  if (real === home) {
    return refuse(`${via}is your home directory`, `use a project directory inside it, e.g. ${example}`);
  }
  if (isWithin(home, real)) {
    return refuse(`${via}contains your home directory ${home}`, `use a project directory inside it, e.g. ${example}`);
  }
  if (real === '/root')
    return refuse(`${via}is a system directory`, `use a project directory you own, e.g. ${example}`);

  const runnerHome = realOrSelf(ctx.runnerHome);
  if (isWithin(real, runnerHome)) {
    return refuse(
      `${via}is inside the runner's own directory ${runnerHome}`,
      `use a project directory outside it, e.g. ${example} (omit the workspace to get a fresh one)`,
    );
  }
  if (isWithin(runnerHome, real)) {
    return refuse(
      `${via}contains the runner's own directory ${runnerHome}`,
      `use a project directory, e.g. ${example}`,
    );
  }
  if (stat.uid !== ctx.uid) {
    return refuse(
      `${via}is owned by uid ${stat.uid}, not by the runner's user (uid ${ctx.uid})`,
      `use a project directory that user owns, e.g. ${example}`,
    );
  }
  return { ok: true, path: real };
}
