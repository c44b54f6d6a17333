import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function yokeHome(explicit?: string): string {
  return explicit ?? process.env.YOKE_HOME ?? join(homedir(), '.yoke');
}

/** The server to talk to: --server, else $YOKE_SERVER, else the one `yoke start` is running. */
export function resolveServer(explicit: string | undefined, home?: string): string {
  const given = explicit ?? process.env.YOKE_SERVER;
  if (given) return given.replace(/\/+$/, '');
  try {
    const { url } = JSON.parse(readFileSync(join(yokeHome(home), 'server.json'), 'utf8')) as { url: string };
    return url;
  } catch {
    throw new Error('no server: run `yoke start` (or pass --server URL / set YOKE_SERVER)');
  }
}

export function resolveToken(): string | undefined {
  return process.env.YOKE_TOKEN || undefined;
}
