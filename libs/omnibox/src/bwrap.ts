import { posix } from 'node:path';
import { isWithin } from '@yoke/protocol';

/** A host path made visible inside the sandbox. `dest` defaults to `source`. */
export interface BwrapBind {
  source: string;
  dest?: string;
  /** Default true: only what must be written is bound read-write. */
  readOnly?: boolean;
}

/** How the host's root is laid out: real directories to bind read-only, and merged-/usr symlinks to recreate. */
export interface SystemLayout {
  /** e.g. `/usr`, `/opt/…`; bound read-only at the same path. */
  dirs: string[];
  /** e.g. `{ path: '/bin', target: 'usr/bin' }` on a merged-/usr system. */
  symlinks: { path: string; target: string }[];
  /** Individual `/etc` entries to bind read-only (only what programs need: certificates, ld cache, timezone…). */
  etc: string[];
}

export interface BwrapOptions {
  /** Host path of the session workspace: bound read-write at the same path, and the working directory. */
  workspace: string;
  /** The program run inside (resolved inside the sandbox) and its arguments. */
  command: string;
  args?: string[];
  /** The complete environment inside: everything else is cleared. */
  env: Record<string, string>;
  system: SystemLayout;
  /** Host files generated for the sandbox (a minimal passwd/group/hosts), bound read-only into /etc. */
  generatedEtc: { passwd: string; group: string; hosts: string };
  /** The private home inside the sandbox (a tmpfs). Default `/home/yoke`. */
  home?: string;
  /** The harness's own config files or dirs put into the private home; `dest` is relative to `home` or absolute. */
  homeBinds?: BwrapBind[];
  /** Code the command needs (node's prefix, the harness package, node_modules…): read-only unless said otherwise. */
  binds?: BwrapBind[];
  /** Paths (already existing, e.g. `<ws>/.git/hooks`) re-bound read-only over themselves after the workspace. */
  readOnlyOverlays?: string[];
  /** Existing paths (credential files and dirs) covered by an empty read-only file or directory, after every bind. */
  hidden?: HiddenPath[];
  /** Files in the private home replaced by an empty read-only file (shell rc files). */
  denyHomeFiles?: string[];
  /**
   * Host paths of an empty regular file and an empty directory (both read-only) that stand in for what is hidden or
   * denied. Not /dev/null: binds are `nodev`, so a shell opening a /dev/null stand-in gets "Permission denied".
   */
  empty: { file: string; dir: string };
  /** File descriptor (in the bwrap process) carrying the seccomp program. */
  seccompFd?: number;
  /** uid/gid seen inside. Default 1000: the harness never believes it is root. */
  uid?: number;
  gid?: number;
  hostname?: string;
  /** Caps the size of the /tmp tmpfs (bytes). */
  tmpSizeBytes?: number;
  /** The `bwrap` binary. Default `bwrap` (found on PATH). */
  bwrap?: string;
}

export interface HiddenPath {
  path: string;
  isDir: boolean;
}

export const DEFAULT_SANDBOX_HOME = '/home/yoke';
export const DEFAULT_SANDBOX_UID = 1000;

/** Each shell's own start-up files (`.profile`, which every POSIX login shell reads, is in `SHELL_RC_FILES`). */
export const SHELL_RC_FILES_OF = {
  bash: ['.bashrc', '.bash_profile', '.bash_login', '.bash_logout'],
  zsh: ['.zshrc', '.zshenv', '.zprofile', '.zlogin'],
  fish: ['.config/fish/config.fish'],
} as const satisfies Record<string, readonly string[]>;

/** Shell start-up files: writing one would plant code that runs in the next shell. Always an empty read-only file. */
export const SHELL_RC_FILES: string[] = [
  ...SHELL_RC_FILES_OF.bash,
  '.profile',
  ...SHELL_RC_FILES_OF.zsh,
  ...SHELL_RC_FILES_OF.fish,
];

/**
 * Credentials, hidden (covered by an empty read-only file or directory) at the top of every directory bound into
 * the sandbox, the workspace included: a workspace never exposes them, whatever directory it is.
 */
export const CREDENTIAL_PATHS = [
  '.ssh',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.config/gh',
  '.gnupg',
  '.netrc',
  '.git-credentials',
  '.docker/config.json',
  '.kube',
];

/** Inside a workspace, read-only whatever the workspace: the next git or shell on the host would run them. */
export const READ_ONLY_WORKSPACE_PATHS = [...SHELL_RC_FILES, '.git/hooks', '.git/config'];

/** What a path is on the host; null when absent or a symlink (never followed: its target is judged by its own name). */
export type PathKind = 'file' | 'dir' | 'other' | null;

/**
 * The mandatory deny list for one directory bound at `root`: credential paths hidden, and for the workspace, shell
 * rc files and git hooks/config read-only; for every other bind (code), `.env*` files hidden too (they belong to the
 * workspace they sit in, and the workspace is the only project the sandbox sees). Pure: `kindOf` and `names` (the
 * directory's entries) come from the caller.
 */
export function denyListFor(
  root: string,
  kindOf: (relative: string) => PathKind,
  names: string[],
  bound: 'workspace' | 'code',
): { hidden: HiddenPath[]; readOnly: string[] } {
  const hidden: HiddenPath[] = [];
  const readOnly: string[] = [];
  const credentials = [...CREDENTIAL_PATHS];
  if (bound === 'code') credentials.push(...names.filter((n) => /^\.env/.test(n)).sort());
  for (const rel of credentials) {
    const kind = kindOf(rel);
    if (kind) hidden.push({ path: posix.join(root, rel), isDir: kind === 'dir' });
  }
  if (bound === 'workspace') {
    for (const rel of READ_ONLY_WORKSPACE_PATHS) if (kindOf(rel)) readOnly.push(posix.join(root, rel));
  }
  return { hidden, readOnly };
}

/** Where the sandbox mounts its own things: a workspace at, inside or above one of these would shadow it. */
export const SANDBOX_OWN_PATHS = ['/proc', '/dev', '/etc', '/run', '/sys'];

/** Everything the sandbox always gets: namespaces, lifetime, a fresh /proc, /dev and /tmp. */
const NAMESPACE_ARGS = [
  '--unshare-user',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-net',
  '--unshare-cgroup-try',
  '--disable-userns',
  '--die-with-parent',
  '--new-session',
];

function assertAbsolute(path: string, what: string): void {
  if (!posix.isAbsolute(path)) throw new Error(`${what} must be an absolute path: ${path}`);
  if (path.split('/').includes('..')) throw new Error(`${what} must not contain '..': ${path}`);
}

/**
 * The workspace is bound read-write over whatever it covers: it must not be, contain or sit inside what the sandbox
 * builds for itself (/proc, /dev, /etc, /run with its support files, the private home, remapped binds), nor contain
 * the read-only system dirs or the private /tmp. `checkWorkspace` refuses all of these earlier, with a reason.
 */
function assertWorkspacePlacement(opts: BwrapOptions, home: string): void {
  const ws = opts.workspace;
  if (ws === '/') throw new Error('the workspace must not be /: it would shadow the whole sandbox');
  const own = [
    ...SANDBOX_OWN_PATHS,
    home,
    ...(opts.binds ?? []).filter((b) => b.dest !== undefined && b.dest !== b.source).map((b) => b.dest as string),
  ];
  for (const path of own) {
    if (isWithin(ws, path) || isWithin(path, ws)) {
      throw new Error(`the workspace ${ws} would shadow the sandbox's own ${path}`);
    }
  }
  const below = ['/tmp', '/var/tmp', ...opts.system.dirs, ...opts.system.symlinks.map((l) => l.path)];
  for (const path of below) {
    if (isWithin(path, ws)) throw new Error(`the workspace ${ws} would shadow the sandbox's ${path}`);
  }
}

function bind(b: BwrapBind, dest: string): string[] {
  return [b.readOnly === false ? '--bind' : '--ro-bind', b.source, dest];
}

/**
 * The full bwrap argv (without the `bwrap` binary itself) for one sandboxed command. Pure: no I/O; the caller
 * resolves what exists on the host (`SystemLayout`) and writes the generated files.
 */
export function buildBwrapArgs(opts: BwrapOptions): string[] {
  const home = opts.home ?? DEFAULT_SANDBOX_HOME;
  assertAbsolute(opts.workspace, 'workspace');
  assertAbsolute(home, 'home');
  if (!opts.command) throw new Error('command is required');
  assertAbsolute(opts.empty.file, 'empty file');
  assertAbsolute(opts.empty.dir, 'empty dir');
  assertWorkspacePlacement(opts, home);
  const uid = opts.uid ?? DEFAULT_SANDBOX_UID;
  const gid = opts.gid ?? uid;
  const args: string[] = [...NAMESPACE_ARGS, '--uid', String(uid), '--gid', String(gid)];
  args.push('--hostname', opts.hostname ?? 'omnibox');

  // A read-only root of system code; nothing of the host's /etc beyond the listed entries.
  for (const dir of opts.system.dirs) {
    assertAbsolute(dir, 'system dir');
    args.push('--ro-bind', dir, dir);
  }
  for (const link of opts.system.symlinks) args.push('--symlink', link.target, link.path);
  for (const entry of opts.system.etc) {
    assertAbsolute(entry, '/etc entry');
    if (!entry.startsWith('/etc/')) throw new Error(`not an /etc entry: ${entry}`);
    args.push('--ro-bind', entry, entry);
  }
  args.push('--ro-bind', opts.generatedEtc.passwd, '/etc/passwd');
  args.push('--ro-bind', opts.generatedEtc.group, '/etc/group');
  args.push('--ro-bind', opts.generatedEtc.hosts, '/etc/hosts');

  args.push('--proc', '/proc', '--dev', '/dev');
  if (opts.tmpSizeBytes !== undefined) args.push('--size', String(opts.tmpSizeBytes));
  args.push('--tmpfs', '/tmp', '--tmpfs', '/var/tmp', '--tmpfs', '/run');

  // The private home: a tmpfs with only the harness's own config in it.
  args.push('--tmpfs', home, '--chmod', '0700', home);
  for (const b of opts.homeBinds ?? []) {
    const dest = posix.isAbsolute(b.dest ?? b.source) ? (b.dest ?? b.source) : posix.join(home, b.dest ?? b.source);
    assertAbsolute(b.source, 'home bind source');
    assertAbsolute(dest, 'home bind dest');
    if (dest !== home && !dest.startsWith(`${home}/`)) throw new Error(`home bind outside the home: ${dest}`);
    args.push(...bind(b, dest));
  }

  // Code the command needs, then the workspace (read-write), then what stays read-only inside it.
  for (const b of opts.binds ?? []) {
    assertAbsolute(b.source, 'bind source');
    const dest = b.dest ?? b.source;
    assertAbsolute(dest, 'bind dest');
    args.push(...bind(b, dest));
  }
  args.push('--bind', opts.workspace, opts.workspace);
  // Code inside the workspace stays as bound (read-only): the workspace bind must not make it writable.
  for (const b of opts.binds ?? []) {
    const dest = b.dest ?? b.source;
    if (isWithin(dest, opts.workspace)) args.push(...bind(b, dest));
  }
  for (const path of opts.readOnlyOverlays ?? []) {
    assertAbsolute(path, 'read-only overlay');
    args.push('--ro-bind', path, path);
  }
  for (const h of opts.hidden ?? []) {
    assertAbsolute(h.path, 'hidden path');
    args.push('--ro-bind', h.isDir ? opts.empty.dir : opts.empty.file, h.path);
  }
  for (const rel of opts.denyHomeFiles ?? SHELL_RC_FILES) {
    args.push('--ro-bind', opts.empty.file, posix.join(home, rel));
  }

  if (opts.seccompFd !== undefined) args.push('--seccomp', String(opts.seccompFd));
  args.push('--clearenv');
  for (const [key, value] of Object.entries(opts.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`invalid environment variable name: ${key}`);
    args.push('--setenv', key, value);
  }
  args.push('--chdir', opts.workspace, '--', opts.command, ...(opts.args ?? []));
  return args;
}
