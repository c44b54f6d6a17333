import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The index of the local servers this OS user runs: one `<port>.json` per `yoke start`, in a directory only this user
 * can read or write. The CLI looks a server up here to find its home, and there its local credential, whatever
 * `--home` the server was started with.
 */

const LocalServerSchema = z.object({
  url: z.string().url(),
  pid: z.number().int().positive(),
  home: z.string().min(1),
});

export type LocalServer = z.infer<typeof LocalServerSchema>;

/** The file in an embedded home that holds the local user's credential (the server creates it, mode 0600). */
const LOCAL_CREDENTIAL_FILE = 'local-token';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * `$YOKE_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/yoke`, else `~/.yoke/run`; created with mode 0700. Throws when it exists
 * but belongs to another user or others may write to it (anyone who can write there could point the CLI elsewhere).
 */
export function localServersDir(): string {
  const dir =
    process.env.YOKE_RUNTIME_DIR ??
    (process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'yoke') : join(homedir(), '.yoke', 'run'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory; remove it or set YOKE_RUNTIME_DIR`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user (uid ${st.uid}); refusing to use it (set YOKE_RUNTIME_DIR)`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 700 ${dir}\``,
    );
  }
  return dir;
}

/** Host and port of a loopback URL with the three loopback spellings made one, or null for any other URL. */
function loopbackKey(url: string): { host: string; port: string } | null {
  let u: URL;
  try {
    u = new URL(url.replace(/\/+$/, ''));
  } catch {
    return null;
  }
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return { host: LOOPBACK_HOSTS.has(u.hostname) ? 'loopback' : u.hostname, port };
}

function entryFile(dir: string, url: string): string {
  const key = loopbackKey(url);
  if (!key) throw new Error(`not a server URL: ${url}`);
  return join(dir, `${key.port}.json`);
}

/** Records a running local server (`<dir>/<port>.json`, mode 0600, written atomically). */
export function registerLocalServer(entry: LocalServer): void {
  const parsed = LocalServerSchema.parse(entry);
  const dir = localServersDir();
  const file = entryFile(dir, parsed.url);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...parsed, url: parsed.url.replace(/\/+$/, '') }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Forgets the local server at `url` (nothing happens when none is recorded). */
export function unregisterLocalServer(url: string): void {
  rmSync(entryFile(localServersDir(), url), { force: true });
}

/**
 * Whether a process runs (one of another user's counts: it answers EPERM). A zombie does not: it has exited and only
 * waits to be reaped, which an orphan's new parent may never do (where /proc tells).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state …": the command may hold spaces and parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Every recorded server whose process still runs, most recently registered first; dead entries are removed. */
function liveEntries(dir: string): LocalServer[] {
  const found: { entry: LocalServer; mtime: number }[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^\d+\.json$/.test(name)) continue;
    const file = join(dir, name);
    try {
      const entry = LocalServerSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      if (!isAlive(entry.pid)) {
        rmSync(file, { force: true });
        continue;
      }
      found.push({ entry, mtime: lstatSync(file).mtimeMs });
    } catch {
      // unreadable or not an entry: another writer's temp file mid-rename, or junk; never fatal to a lookup
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime).map((f) => f.entry);
}

/**
 * The live local server at `url` (`localhost`, `127.0.0.1` and `[::1]` are one host; the port must match), or, with no
 * URL, the one running (the most recently started when several are); null when there is none.
 */
export function findLocalServer(url?: string): LocalServer | null {
  const entries = liveEntries(localServersDir());
  if (url === undefined) return entries[0] ?? null;
  const want = loopbackKey(url);
  if (!want) return null;
  return (
    entries.find((e) => {
      const key = loopbackKey(e.url);
      return key?.host === want.host && key.port === want.port;
    }) ?? null
  );
}

/**
 * The local credential of the embedded server with this home (`<home>/local-token`), or null when there is none or the
 * file is readable by group or others (a credential others could read is not used).
 */
export function localCredential(home: string): string | null {
  const file = join(home, LOCAL_CREDENTIAL_FILE);
  try {
    const st = lstatSync(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0) return null;
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return null;
    const secret = readFileSync(file, 'utf8').trim();
    return secret || null;
  } catch {
    return null;
  }
}
