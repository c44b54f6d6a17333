import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkWorkspacePath } from '@yoke/protocol';
import { checkWorkspace, type WorkspaceContext } from '@yoke/omnibox';

export interface WorkspaceRules {
  /** The runner's home: its own workspaces live in `workspaces/<session id>` under it. */
  home: string;
  /** Let sessions name their workspace; each one must still pass `checkWorkspace`. */
  allowAnyWorkspace?: boolean;
  /** The home directory `checkWorkspace` protects (default: this user's). */
  userHome?: string;
}

export type WorkspacePlace = { ok: true; path: string } | { ok: false; refusal: string };

/** The rules `checkWorkspace` applies; this runner's own `workspaces/<id>` directories are not requested ones. */
export function workspaceRefusal(rules: WorkspaceRules, workspace: string): string | null {
  const own = join(rules.home, 'workspaces');
  if (dirname(workspace) === own || dirname(workspace) === realOrSelf(own)) return null;
  const check = checkWorkspace(workspace, workspaceContext(rules));
  return check.ok ? null : check.refusal.message;
}

/**
 * Where a new session works: the directory it asked for when that passes `checkWorkspace` (resolved to its real
 * path), else a refusal saying why; without a request, a fresh directory of the runner's own.
 */
export function workspaceFor(rules: WorkspaceRules, requested: string | null, sessionId: string): WorkspacePlace {
  if (requested) {
    if (!rules.allowAnyWorkspace) {
      const lexical = checkWorkspacePath(requested);
      const shown = lexical.ok ? lexical.path : requested;
      return {
        ok: false,
        refusal:
          `workspace ${shown} was not used: this runner only works in directories of its own ` +
          '(start it with --allow-any-workspace to let sessions name one, or omit the workspace)',
      };
    }
    const check = checkWorkspace(requested, workspaceContext(rules));
    return check.ok ? check : { ok: false, refusal: check.refusal.message };
  }
  const dir = join(rules.home, 'workspaces', sessionId);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  return { ok: true, path: dir };
}

function workspaceContext(rules: WorkspaceRules): WorkspaceContext {
  return { home: rules.userHome ?? homedir(), runnerHome: rules.home, uid: process.getuid?.() ?? 0 };
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
