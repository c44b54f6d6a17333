import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findLocalServer, localCredential } from './local-servers';
import { readServerRecord } from './server-record';

export function yokeHome(explicit?: string): string {
  return explicit ?? process.env.YOKE_HOME ?? join(homedir(), '.yoke');
}

/** `yoke login`'s stored credential (credentials.json, mode 0600), if any. */
function storedLogin(home?: string): { server: string; token: string } | null {
  try {
    return JSON.parse(readFileSync(join(yokeHome(home), 'credentials.json'), 'utf8')) as {
      server: string;
      token: string;
    };
  } catch {
    return null;
  }
}

/** The server `yoke start` runs for this home (its server.json), if any; a file left by a killed start is ignored. */
function startedServer(home?: string): { url: string } | null {
  return readServerRecord(yokeHome(home));
}

let resolvedServer: string | undefined;
let resolvedHome: string | undefined;

/**
 * The server to talk to: --server, else $YOKE_SERVER, else the one `yoke login` signed in to, else the one
 * `yoke start` runs for this home, else the one local server this OS user started (whatever its home).
 */
export function resolveServer(explicit: string | undefined, home?: string): string {
  resolvedServer = resolveServerUrl(explicit, home);
  resolvedHome = home;
  return resolvedServer;
}

function resolveServerUrl(explicit: string | undefined, home?: string): string {
  const given = explicit ?? process.env.YOKE_SERVER;
  if (given) return given.replace(/\/+$/, '');
  const login = storedLogin(home);
  if (login) return login.server;
  const started = startedServer(home) ?? findLocalServer();
  if (started) return started.url;
  throw new Error('no server: run `yoke start` (or pass --server URL / set YOKE_SERVER)');
}

/**
 * $YOKE_TOKEN, else the token `yoke login` stored (only for the server it was issued by), else the local credential
 * of a server `yoke start` runs for this OS user at that URL (found in this home, or in the per-user index of local
 * servers whatever their home).
 */
export function resolveToken(home: string | undefined = resolvedHome): string | undefined {
  if (process.env.YOKE_TOKEN) return process.env.YOKE_TOKEN;
  const login = storedLogin(home);
  if (login && resolvedServer === login.server) return login.token;
  if (!resolvedServer) return undefined;
  const started = startedServer(home);
  if (started && sameServer(started.url, resolvedServer)) {
    const own = localCredential(yokeHome(home));
    if (own) return own;
  }
  const local = findLocalServer(resolvedServer);
  return (local && localCredential(local.home)) ?? undefined;
}

function sameServer(a: string, b: string): boolean {
  return loopbackKey(a) === loopbackKey(b);
}

/** Loopback names are one host: `http://localhost:7420` and `http://127.0.0.1:7420/` are the same server. */
function loopbackKey(url: string): string {
  try {
    const u = new URL(url);
    const host = ['localhost', '[::1]', '127.0.0.1'].includes(u.hostname) ? '127.0.0.1' : u.hostname;
    return `${u.protocol}//${host}:${u.port}`;
  } catch {
    return url;
  }
}
