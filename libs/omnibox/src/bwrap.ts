import { posix } from 'node:path';

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
  /** Files in the private home replaced by an empty read-only file (shell rc files). */
  denyHomeFiles?: string[];
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

export const DEFAULT_SANDBOX_HOME = '/home/yoke';
export const DEFAULT_SANDBOX_UID = 1000;

/** Shell start-up files: writing one would plant code that runs in the next shell. Always an empty read-only file. */
export const SHELL_RC_FILES = [
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.config/fish/config.fish',
];

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
  for (const path of opts.readOnlyOverlays ?? []) {
    assertAbsolute(path, 'read-only overlay');
    args.push('--ro-bind', path, path);
  }
  for (const rel of opts.denyHomeFiles ?? SHELL_RC_FILES) {
    args.push('--ro-bind', '/dev/null', posix.join(home, rel));
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
