import { AppError, checkWorkspacePath } from '@yoke/protocol';

/**
 * What the server can tell of a requested workspace without the runner's filesystem (absolute, no `..`, not `/`, not a
 * system directory); the runner checks the rest (home, ownership, symlinks) before any harness starts there.
 */
export function requestedWorkspace(path: string): string {
  const check = checkWorkspacePath(path);
  if (check.ok) return check.path;
  const { reason, hint } = check.refusal;
  throw new AppError('workspace.refused', check.refusal.message, { reason, hint });
}
