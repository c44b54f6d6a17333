import { type ChildProcess, spawn, type StdioNull, type StdioPipe } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Stream, Writable } from 'node:stream';
import {
  buildBwrapArgs,
  type BwrapBind,
  DEFAULT_SANDBOX_HOME,
  DEFAULT_SANDBOX_UID,
  denyListFor,
  SHELL_RC_FILES_OF,
  type HiddenPath,
  type PathKind,
} from './bwrap';
import {
  caFiles,
  detectSystemLayout,
  devNullFd,
  findExecutable,
  leakedFds,
  nodeInstall,
  undiciDir,
  protectedWorkspacePaths,
  supportFiles,
} from './host';
import { buildSeccompProgram } from './seccomp';

export const DEFAULT_BRIDGE_PORT = 3128;
/** Where the support files (bridge script, CA) appear inside the sandbox. */
export const SANDBOX_SUPPORT_DIR = '/run/yoke';
/** Where the runner CA files appear inside (beside the read-only support dir, not in it). */
export const SANDBOX_CA_DIR = '/run/yoke-ca';

export type SandboxStdio = StdioPipe | StdioNull | 'inherit' | number | Stream;

export interface SandboxNetwork {
  /**
   * Where each connection made inside to `127.0.0.1:<port>` goes: the egress proxy's Unix socket path, or a function
   * given the socket (e.g. `EgressProxy.handleConnection`).
   */
  proxy: string | ((socket: Socket) => void);
  /** The loopback port the bridge listens on inside the sandbox. Default 3128. */
  port?: number;
  /** The runner CA (PEM) the proxy signs intercepted TLS with: trusted inside via NODE_EXTRA_CA_CERTS/SSL_CERT_FILE. */
  caCertPem?: string;
  /**
   * The command is this node and never waits synchronously (`spawnSync`, `execSync`) on a child that uses the network:
   * it hosts the bridge's listener itself, preloaded, and no second node process starts (~25–90 ms and ~40 MB a
   * sandbox). Not for a program that might wait so: its child's connections would wait on it for ever.
   */
  hostBridge?: boolean;
}

export interface SpawnSandboxedOptions {
  /** Host path of the workspace: the only writable host directory, and the working directory. */
  workspace: string;
  /** The explicit environment pass-list (placeholders only for secrets): merged over the sandbox defaults. */
  env?: Record<string, string>;
  /** As for `child_process.spawn`, three entries (stdin, stdout, stderr); `ipc` is not available. Default pipes. */
  stdio?: SandboxStdio | [SandboxStdio, SandboxStdio, SandboxStdio];
  detached?: boolean;
  /** The private home: its path inside (default /home/yoke) and the harness's own config bound into it. */
  home?: { path?: string; binds?: BwrapBind[] };
  /** Code the command needs beyond the system dirs and node's install (read-only unless said otherwise). */
  binds?: BwrapBind[];
  /** More paths re-bound read-only over themselves (the workspace's git hooks/config already are). */
  readOnly?: string[];
  /** Network through the egress proxy; omitted: no network at all (loopback inside only). */
  network?: SandboxNetwork;
  /** Without a working bwrap, run unsandboxed instead of throwing. Only when a policy says `sandbox: none`. */
  allowUnsandboxed?: boolean;
  uid?: number;
  gid?: number;
  /** The bwrap binary; default `bwrap` on PATH. */
  bwrap?: string;
}

export type SandboxedChild = ChildProcess & { readonly sandbox: 'bwrap' | 'none' };

export class SandboxUnavailableError extends Error {
  readonly code = 'sandbox.unavailable';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}. ${fix}`);
    this.name = 'SandboxUnavailableError';
  }
}

export const BWRAP_FIX =
  'Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora/RHEL: `dnf install bubblewrap`; ' +
  'Arch: `pacman -S bubblewrap`), or run `yoke sandbox check` for details';

let seccompProgram: Buffer | null = null;
const seccomp = (): Buffer => (seccompProgram ??= buildSeccompProgram());

/** The environment every sandbox starts from: nothing of the runner's, only these and the caller's pass-list. */
export function sandboxEnv(
  home: string,
  user: string,
  network: SandboxNetwork | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  const path = ['/usr/local/bin', '/usr/bin', '/bin'];
  const { binDir } = nodeInstall();
  if (!path.includes(binDir)) path.unshift(binDir);
  const env: Record<string, string> = {
    PATH: path.join(':'),
    HOME: home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/sh',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
  };
  if (network) {
    const url = `http://127.0.0.1:${network.port ?? DEFAULT_BRIDGE_PORT}`;
    for (const key of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) {
      env[key] = url;
    }
    // Loopback stays inside the sandbox's own network namespace (an agent's dev server); it is never the host's.
    env.NO_PROXY = env.no_proxy = 'localhost,127.0.0.1,::1';
    env.NODE_OPTIONS = `--require ${SANDBOX_SUPPORT_DIR}/net-preload.js`;
    if (network.caCertPem) {
      env.NODE_EXTRA_CA_CERTS = `${SANDBOX_CA_DIR}/yoke-ca.pem`;
      for (const key of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) {
        env[key] = `${SANDBOX_CA_DIR}/ca-bundle.pem`;
      }
    }
  }
  return { ...env, ...extra };
}

let placeholders: { file: string; dir: string } | null = null;

/** An empty read-only file and directory (made once per process) that stand in for hidden and denied paths. */
function emptyPlaceholders(): { file: string; dir: string } {
  // Made again if something (a tmp cleaner) removed them: a missing bind source would fail every sandbox.
  if (placeholders && pathKind(placeholders.file) === 'file' && pathKind(placeholders.dir) === 'dir')
    return placeholders;
  const root = mkdtempSync(join(tmpdir(), 'yoke-omnibox-empty-'));
  const made = { file: join(root, 'empty'), dir: join(root, 'empty.d') };
  writeFileSync(made.file, '', { mode: 0o444 });
  mkdirSync(made.dir, { mode: 0o555 });
  chmodSync(root, 0o755);
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  return (placeholders = made);
}

function pathKind(path: string): PathKind {
  try {
    const stat = lstatSync(path);
    return stat.isSymbolicLink() ? null : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

/**
 * The mandatory deny list over everything bound from the host: credentials hidden and, in the workspace, shell rc
 * files and git hooks/config read-only, whatever the workspace is; `.env*` files of the code dirs hidden.
 */
function mandatoryDenyList(workspace: string, binds: BwrapBind[]): { hidden: HiddenPath[]; readOnly: string[] } {
  const names = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const ws = denyListFor(workspace, (rel) => pathKind(posix.join(workspace, rel)), [], 'workspace');
  const hidden = [...ws.hidden];
  for (const b of binds) {
    if (pathKind(b.source) !== 'dir') continue;
    hidden.push(
      ...denyListFor(b.dest ?? b.source, (rel) => pathKind(posix.join(b.source, rel)), names(b.source), 'code').hidden,
    );
  }
  return { hidden, readOnly: ws.readOnly };
}

function stdioTriple(stdio: SpawnSandboxedOptions['stdio']): [SandboxStdio, SandboxStdio, SandboxStdio] {
  if (stdio === undefined) return ['pipe', 'pipe', 'pipe'];
  if (Array.isArray(stdio)) {
    if (stdio.length !== 3) throw new Error('stdio must have exactly three entries (stdin, stdout, stderr)');
    return stdio;
  }
  return [stdio, stdio, stdio];
}

/**
 * The private home's shell start-up files to cover: `.profile`, and those of each shell the sandbox has (its system
 * dirs are the host's). A shell that is not there reads no file: covering its files would only cost a mount each.
 */
function homeRcFiles(): string[] {
  const files = ['.profile'];
  for (const [shell, rc] of Object.entries(SHELL_RC_FILES_OF)) {
    if (['/usr/bin', '/bin', '/usr/local/bin'].some((dir) => existsSync(posix.join(dir, shell)))) {
      files.push(...rc);
    }
  }
  return files;
}

/** Whether `command` is this node (what every harness runs), by its path or the file it resolves to. */
function isNode(command: string): boolean {
  if (command === process.execPath) return true;
  if (!posix.isAbsolute(command)) return false;
  try {
    return realpathSync(command) === realpathSync(process.execPath);
  } catch {
    return false;
  }
}

/** Hands a connection from inside the sandbox to the egress proxy. */
function route(socket: Socket, proxy: SandboxNetwork['proxy']): void {
  if (typeof proxy === 'function') {
    proxy(socket);
    socket.resume();
    return;
  }
  const upstream = connect(proxy);
  const destroyBoth = (): void => {
    socket.destroy();
    upstream.destroy();
  };
  socket.on('error', destroyBoth);
  upstream.on('error', destroyBoth);
  socket.pipe(upstream).pipe(socket);
  socket.resume();
}

/**
 * Runs `command` inside Omnibox (bwrap namespaces + seccomp, private home, workspace read-write, no network but the
 * bridge to the egress proxy). Same stdio semantics as `child_process.spawn`. The returned process is bwrap; killing
 * it kills the whole sandbox (`--die-with-parent`). Throws `SandboxUnavailableError` when bwrap is missing, unless
 * `allowUnsandboxed`.
 */
export function spawnSandboxed(command: string, args: string[], opts: SpawnSandboxedOptions): SandboxedChild {
  if (!posix.isAbsolute(opts.workspace)) throw new Error(`workspace must be an absolute path: ${opts.workspace}`);
  const home = opts.home?.path ?? DEFAULT_SANDBOX_HOME;
  const user = posix.basename(home) || 'yoke';
  const uid = opts.uid ?? DEFAULT_SANDBOX_UID;
  const gid = opts.gid ?? uid;
  const stdio = stdioTriple(opts.stdio);
  const bwrap = process.platform === 'linux' ? findExecutable(opts.bwrap ?? 'bwrap') : null;
  if (!bwrap) {
    if (!opts.allowUnsandboxed) {
      throw new SandboxUnavailableError(
        process.platform === 'linux'
          ? 'bubblewrap (bwrap) is not installed'
          : `no Linux sandbox on ${process.platform}`,
        BWRAP_FIX,
      );
    }
    const child = spawn(command, args, {
      cwd: opts.workspace,
      env: sandboxEnv(process.env.HOME ?? home, user, undefined, opts.env),
      stdio,
      detached: opts.detached,
    });
    return Object.assign(child, { sandbox: 'none' as const });
  }

  const files = supportFiles({ name: user, uid, gid, home });
  const node = nodeInstall();
  const binds: BwrapBind[] = [{ source: files.dir, dest: SANDBOX_SUPPORT_DIR }];
  if (node.prefix) binds.push({ source: node.prefix });
  if (opts.network) binds.push({ source: undiciDir() });
  if (opts.network?.caCertPem) {
    const ca = caFiles(opts.network.caCertPem);
    binds.push({ source: posix.dirname(ca.ca), dest: SANDBOX_CA_DIR });
  }
  binds.push(...(opts.binds ?? []));

  const SECCOMP_FD = 3;
  const IPC_FD = 4;
  const env = sandboxEnv(home, user, opts.network, opts.env);
  let inner = { command, args };
  if (opts.network) {
    env.NODE_CHANNEL_FD = String(IPC_FD);
    env.NODE_CHANNEL_SERIALIZATION_MODE = 'json';
    env.YOKE_BRIDGE_PORT = String(opts.network.port ?? DEFAULT_BRIDGE_PORT);
    if (opts.network.hostBridge && isNode(command)) {
      // A node command hosts the bridge's listener itself (preloaded first): no second node process starts.
      const preload = `--require ${SANDBOX_SUPPORT_DIR}/bridge-preload.js`;
      env.NODE_OPTIONS = env.NODE_OPTIONS === undefined ? preload : `${preload} ${env.NODE_OPTIONS}`;
    } else {
      // The bridge itself needs no fetch preload (it would pay for loading undici): the command gets it back.
      if (env.NODE_OPTIONS !== undefined) {
        env.YOKE_CHILD_NODE_OPTIONS = env.NODE_OPTIONS;
        delete env.NODE_OPTIONS;
      }
      inner = { command: process.execPath, args: [`${SANDBOX_SUPPORT_DIR}/bridge.js`, command, ...args] };
    }
  }
  const deny = mandatoryDenyList(opts.workspace, binds);
  const bwrapArgs = buildBwrapArgs({
    workspace: opts.workspace,
    command: inner.command,
    args: inner.args,
    env,
    system: detectSystemLayout(),
    generatedEtc: files,
    home,
    homeBinds: opts.home?.binds,
    binds,
    readOnlyOverlays: [
      ...new Set([...protectedWorkspacePaths(opts.workspace), ...deny.readOnly, ...(opts.readOnly ?? [])]),
    ],
    hidden: deny.hidden,
    denyHomeFiles: homeRcFiles(),
    empty: emptyPlaceholders(),
    seccompFd: SECCOMP_FD,
    uid,
    gid,
  });

  const fds: (SandboxStdio | 'ipc')[] = [...stdio, 'pipe', ...(opts.network ? (['ipc'] as const) : [])];
  // Inherited fds without close-on-exec would pass into the sandbox: /dev/null takes their place in the child.
  for (const fd of leakedFds()) {
    while (fds.length < fd) fds.push('ignore');
    if (fd >= fds.length) fds.push(devNullFd());
  }
  const child = spawn(bwrap, bwrapArgs, {
    stdio: fds,
    detached: opts.detached,
    env: {},
  });
  const seccompPipe = child.stdio[SECCOMP_FD] as Writable | null;
  seccompPipe?.on('error', () => undefined); // bwrap failed before reading it: its exit status says why
  seccompPipe?.end(seccomp());
  const network = opts.network;
  if (network) {
    child.on('message', (_message: unknown, handle: unknown) => {
      if (handle instanceof Socket) route(handle, network.proxy);
    });
  }
  return Object.assign(child, { sandbox: 'bwrap' as const });
}
