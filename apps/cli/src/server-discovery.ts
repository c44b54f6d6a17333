import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

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

let resolvedServer: string | undefined;

/**
 * The server to talk to: --server, else $YOKE_SERVER, else the one `yoke login` signed in to, else the one
 * `yoke start` is running.
 */
export function resolveServer(explicit: string | undefined, home?: string): string {
  resolvedServer = resolveServerUrl(explicit, home);
  return resolvedServer;
}

function resolveServerUrl(explicit: string | undefined, home?: string): string {
  const given = explicit ?? process.env.YOKE_SERVER;
  if (given) return given.replace(/\/+$/, '');
  const login = storedLogin(home);
  if (login) return login.server;
  try {
    const { url } = JSON.parse(readFileSync(join(yokeHome(home), 'server.json'), 'utf8')) as { url: string };
    return url;
  } catch {
    throw new Error('no server: run `yoke start` (or pass --server URL / set YOKE_SERVER)');
  }
}

/** $YOKE_TOKEN, else the token `yoke login` stored, but only for the server it was issued by. */
export function resolveToken(home?: string): string | undefined {
  if (process.env.YOKE_TOKEN) return process.env.YOKE_TOKEN;
  const login = storedLogin(home);
  return login && resolvedServer === login.server ? login.token : undefined;
}
