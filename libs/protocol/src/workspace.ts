/**
 * What a session's workspace may be, as far as the path alone tells (the server checks this when a session is
 * created; the runner checks it again, with the filesystem, before any harness starts in it).
 */

/** Top-level system directories: never a workspace themselves (a project directory below some is fine). */
export const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/tmp',
];

/** System trees: neither they nor anything inside them is a workspace (the sandbox mounts its own over several). */
export const SYSTEM_TREES = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/run',
  '/var/lock',
];

export interface WorkspaceRefusal {
  /** The path as requested. */
  path: string;
  /** Why, e.g. `is your home directory`. */
  reason: string;
  /** How to pick one instead. */
  hint: string;
  /** `workspace <path> <reason>: <hint>`, what the user sees. */
  message: string;
}

export type WorkspacePathCheck = { ok: true; path: string } | { ok: false; refusal: WorkspaceRefusal };

const EXAMPLE = 'e.g. /home/you/my-project';

export function refuseWorkspace(path: string, reason: string, hint: string): { ok: false; refusal: WorkspaceRefusal } {
  return { ok: false, refusal: { path, reason, hint, message: `workspace ${path} ${reason}: ${hint}` } };
}

/** `inner` is `outer` or below it (both normalized absolute paths). */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || outer === '/' || inner.startsWith(`${outer}/`);
}

/**
 * The checks that need no filesystem: an absolute path without `..`, not `/`, not a system directory. Returns the
 * normalized path (duplicate and trailing slashes, `.` segments removed) when it passes.
 */
export function checkWorkspacePath(path: string): WorkspacePathCheck {
  if ([...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return refuseWorkspace(
      JSON.stringify(path),
      'contains a control character',
      `give a plain directory path, ${EXAMPLE}`,
    );
  }
  if (!path.startsWith('/')) {
    return refuseWorkspace(path, 'is not an absolute path', `give the full path of a project directory, ${EXAMPLE}`);
  }
  if (path.split('/').includes('..')) {
    return refuseWorkspace(path, "contains '..'", "give the directory's full path without '..' segments");
  }
  // Normalized by hand: this library runs in browsers too (no node:path).
  const normal = `/${path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/')}`;
  if (normal === '/') {
    return refuseWorkspace(path, 'is the root directory', `use a project directory instead, ${EXAMPLE}`);
  }
  const tree = SYSTEM_TREES.find((dir) => isWithin(normal, dir));
  if (tree && tree !== normal) {
    return refuseWorkspace(
      path,
      `is inside the system directory ${tree}`,
      `use a project directory you own instead, ${EXAMPLE}`,
    );
  }
  if (tree || SYSTEM_DIRS.includes(normal)) {
    return refuseWorkspace(path, 'is a system directory', `use a project directory you own instead, ${EXAMPLE}`);
  }
  return { ok: true, path: normal };
}
