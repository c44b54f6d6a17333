import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import type { SystemLayout } from './bwrap';
import { BRIDGE_PRELOAD_SOURCE, FORWARDER_SOURCE } from './forwarder';
import { netPreloadSource } from './net-preload';

/** What the host side of the sandbox reads from the machine: the root's layout, node's install, bwrap's path. */

const ROOT_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The /etc entries programs inside need, and nothing that holds a secret: certificate stores (not /etc/ssl/private),
 * the dynamic linker cache, timezone, name-service and protocol tables. Only the existing ones are bound.
 */
export const ETC_ALLOWLIST = [
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/pki/tls/certs',
  '/etc/pki/ca-trust',
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/protocols',
  '/etc/services',
  '/etc/mime.types',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/inputrc',
  '/etc/terminfo',
];

export function detectSystemLayout(): SystemLayout {
  const layout: SystemLayout = { dirs: [], symlinks: [], etc: [] };
  for (const dir of ROOT_DIRS) {
    let stat;
    try {
      stat = lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) layout.symlinks.push({ path: dir, target: readlinkSync(dir) });
    else if (stat.isDirectory()) layout.dirs.push(dir);
  }
  layout.etc = ETC_ALLOWLIST.filter((entry) => existsSync(entry));
  return layout;
}

/** The node binary's directory, and its install prefix when node does not live under a system dir. */
export function nodeInstall(execPath = process.execPath): { binDir: string; prefix: string | null } {
  const real = realpathSync(execPath);
  const binDir = dirname(real);
  const underSystem = ['/usr/', '/bin/', '/lib/'].some((d) => real.startsWith(d));
  return { binDir, prefix: underSystem ? null : dirname(binDir) };
}

/** `bwrap` on PATH (or the given path), or null. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export interface SupportFiles {
  dir: string;
  passwd: string;
  group: string;
  hosts: string;
  forwarder: string;
  /** The bridge's listener, preloaded into a node command (see `forwarder.ts`). */
  bridgePreload: string;
  /** Makes node's fetch use the proxy (see `net-preload.ts`). */
  netPreload: string;
}

const supportCache = new Map<string, SupportFiles>();
let supportRoot: string | null = null;

function root(): string {
  if (!supportRoot) {
    supportRoot = mkdtempSync(join(tmpdir(), 'yoke-omnibox-'));
    chmodSync(supportRoot, 0o755);
    const created = supportRoot;
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return supportRoot;
}

/**
 * Files generated once per runner process and bound read-only into every sandbox (a minimal passwd/group with only
 * the sandbox user, a loopback-only hosts file, the bridge script). Content-addressed, so concurrent sandboxes share.
 */
export function supportFiles(user: { name: string; uid: number; gid: number; home: string }): SupportFiles {
  const key = `${user.name}:${user.uid}:${user.gid}:${user.home}`;
  const cached = supportCache.get(key);
  if (cached) return cached;
  const dir = join(root(), createHash('sha256').update(key).digest('hex').slice(0, 16));
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const files: SupportFiles = {
    dir,
    passwd: join(dir, 'passwd'),
    group: join(dir, 'group'),
    hosts: join(dir, 'hosts'),
    forwarder: join(dir, 'bridge.js'),
    bridgePreload: join(dir, 'bridge-preload.js'),
    netPreload: join(dir, 'net-preload.js'),
  };
  writeFileSync(
    files.passwd,
    `root:x:0:0:root:/root:/usr/sbin/nologin\n${user.name}:x:${user.uid}:${user.gid}:${user.name}:${user.home}:/bin/sh\n` +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(files.group, `root:x:0:\n${user.name}:x:${user.gid}:\nnogroup:x:65534:\n`);
  writeFileSync(files.hosts, '127.0.0.1\tlocalhost omnibox\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  writeFileSync(files.forwarder, FORWARDER_SOURCE);
  writeFileSync(files.bridgePreload, BRIDGE_PRELOAD_SOURCE);
  writeFileSync(files.netPreload, netPreloadSource(undiciDir()));
  supportCache.set(key, files);
  return files;
}

/** Where the system's CA bundle is, to build SSL_CERT_FILE = system roots + the runner's CA. */
const SYSTEM_CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

/** Writes the runner's CA (alone, for NODE_EXTRA_CA_CERTS) and a full bundle (for OpenSSL-based tools). */
export function caFiles(caCertPem: string): { ca: string; bundle: string } {
  const dir = join(root(), `ca-${createHash('sha256').update(caCertPem).digest('hex').slice(0, 16)}`);
  const ca = join(dir, 'yoke-ca.pem');
  const bundle = join(dir, 'ca-bundle.pem');
  if (!existsSync(bundle)) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const system = SYSTEM_CA_BUNDLES.find((p) => existsSync(p));
    writeFileSync(ca, caCertPem);
    writeFileSync(bundle, `${system ? readFileSync(system, 'utf8').trimEnd() + '\n' : ''}${caCertPem}`);
  }
  return { ca, bundle };
}

/** Paths inside a workspace that must stay read-only: git hooks and config (they run code on the host's next git). */
export function protectedWorkspacePaths(workspace: string): string[] {
  const git = posix.join(workspace, '.git');
  let stat;
  try {
    stat = lstatSync(git);
  } catch {
    return [];
  }
  // A worktree's `.git` is a file pointing elsewhere: its hooks and config live outside the workspace already.
  if (!stat.isDirectory()) return [git];
  const hooks = posix.join(git, 'hooks');
  if (!existsSync(hooks)) mkdirSync(hooks);
  const paths = [hooks];
  for (const name of ['config', 'config.worktree', 'info']) {
    if (existsSync(posix.join(git, name))) paths.push(posix.join(git, name));
  }
  return paths;
}

const O_CLOEXEC = 0o2000000;
let devNull: number | null = null;

/**
 * File descriptors this process inherited without close-on-exec (from whoever started the runner): a child would
 * inherit them too, and bwrap passes them into the sandbox, where a directory fd would be a way out of the mount
 * namespace. Node opens its own fds close-on-exec, so these are only ever inherited ones.
 */
export function leakedFds(): number[] {
  const leaked: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fdinfo');
  } catch {
    return leaked;
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || fd < 3) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags && (parseInt(flags[1], 8) & O_CLOEXEC) === 0) leaked.push(fd);
    } catch {
      // closed meanwhile (the readdir's own fd)
    }
  }
  return leaked;
}

/** A read-only /dev/null fd (opened once) to shadow leaked fds in a child's fd table. */
export function devNullFd(): number {
  return (devNull ??= openSync('/dev/null', 'r'));
}

/** The undici package (for the fetch preload): bound read-only into networked sandboxes. */
export function undiciDir(): string {
  return realpathSync(dirname(require.resolve('undici/package.json')));
}
