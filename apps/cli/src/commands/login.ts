import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  API_PREFIX,
  DEVICE_GRANT_TYPE,
  DeviceCodeReply,
  DeviceTokenError,
  DeviceTokenReply,
  MeView,
  OrgView,
  TokenView,
} from '@yoke/protocol';
import { IGNORE_REPLY } from '@yoke/client';
import { z } from 'zod';
import { ApiClient } from '../api-client';
import { resolveServer, resolveToken, yokeHome } from '../server-discovery';

/** What `yoke login` keeps (mode 0600): the server, and the API token it issued to this machine. */
export type StoredCredentials = { server: string; token: string; expiresAt: string; email: string; org: string };

export function credentialsPath(home?: string): string {
  return join(yokeHome(home), 'credentials.json');
}

export function readCredentials(home?: string): StoredCredentials | null {
  try {
    return JSON.parse(readFileSync(credentialsPath(home), 'utf8')) as StoredCredentials;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `yoke login SERVER`: the OAuth device authorization grant (RFC 8628). Prints where to approve and the code, polls
 * the token endpoint at the interval the server asks for (slower on slow_down), stores the token on success.
 */
export async function loginCommand(server: string, opts: { readOnly?: boolean; home?: string }): Promise<number> {
  const base = server.replace(/\/+$/, '');
  const start = await fetch(`${base}${API_PREFIX}/auth/device/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'yoke-cli', scope: opts.readOnly ? 'read' : 'write' }),
  });
  if (!start.ok) throw new Error(`the server refused to start a login (HTTP ${start.status}): ${await start.text()}`);
  const code = DeviceCodeReply.parse(await start.json());
  process.stdout.write(
    `To sign in, open ${code.verification_uri} and enter the code ${code.user_code}\n` +
      `  (or open ${code.verification_uri_complete})\n` +
      `Waiting for approval...\n`,
  );
  let interval = code.interval;
  const deadline = Date.now() + code.expires_in * 1000;
  while (Date.now() < deadline) {
    await sleep(interval * 1000);
    const res = await fetch(`${base}${API_PREFIX}/auth/device/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: DEVICE_GRANT_TYPE,
        device_code: code.device_code,
        client_id: 'yoke-cli',
      }),
    });
    const body = (await res.json()) as unknown;
    if (res.ok) {
      const granted = DeviceTokenReply.parse(body);
      const api = new ApiClient(base, granted.access_token);
      const me = await api.request('GET', '/me', MeView);
      const org = await api.request('GET', '/org', OrgView);
      const stored: StoredCredentials = {
        server: base,
        token: granted.access_token,
        expiresAt: new Date(Date.now() + granted.expires_in * 1000).toISOString(),
        email: me.email,
        org: org.slug,
      };
      const path = credentialsPath(opts.home);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
      process.stdout.write(`Logged in to ${base} as ${me.email} (${me.role}) in org ${org.slug}\n`);
      return 0;
    }
    const error = DeviceTokenError.safeParse(body);
    if (!error.success) throw new Error(`unexpected answer from the server (HTTP ${res.status})`);
    switch (error.data.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5;
        continue;
      case 'access_denied':
        process.stderr.write('yoke: the login was denied\n');
        return 2;
      case 'expired_token':
        process.stderr.write('yoke: the code expired before it was approved; run `yoke login` again\n');
        return 2;
      case 'invalid_grant':
      case 'unsupported_grant_type':
      case 'invalid_request':
        throw new Error(`login failed: ${error.data.error_description ?? error.data.error}`);
    }
  }
  process.stderr.write('yoke: the code expired before it was approved; run `yoke login` again\n');
  return 2;
}

/** `yoke logout`: revokes the stored token on the server and forgets it. */
export async function logoutCommand(opts: { home?: string }): Promise<number> {
  const stored = readCredentials(opts.home);
  if (!stored) {
    process.stdout.write('Not logged in\n');
    return 0;
  }
  let revoked: boolean;
  try {
    const res = await fetch(`${stored.server}${API_PREFIX}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stored.token}` },
    });
    // 401: the token was already revoked or expired; nothing left to end on the server.
    revoked = res.status === 204 || res.status === 401;
  } catch {
    revoked = false;
  }
  rmSync(credentialsPath(opts.home), { force: true });
  if (!revoked) {
    process.stderr.write(`yoke: could not reach ${stored.server} to revoke the token; it was forgotten locally\n`);
    return 1;
  }
  process.stdout.write(`Logged out of ${stored.server}\n`);
  return 0;
}

/** `yoke whoami`: who the server says the current credential belongs to. */
export async function whoamiCommand(opts: { server?: string; home?: string; json?: boolean }): Promise<number> {
  const server = resolveServer(opts.server, opts.home);
  const api = new ApiClient(server, resolveToken());
  const me = await api.request('GET', '/me', MeView);
  const org = await api.request('GET', '/org', OrgView);
  if (opts.json) process.stdout.write(`${JSON.stringify({ server, ...me, org: org.slug })}\n`);
  else process.stdout.write(`${me.email} (${me.role}) in org ${org.slug} at ${server}\n`);
  return 0;
}

/** `yoke tokens list|revoke`: the caller's API tokens in the current org. */
export async function tokensListCommand(opts: { server?: string; home?: string; json?: boolean }): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const tokens = await api.request('GET', '/tokens', z.array(TokenView));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(tokens)}\n`);
    return 0;
  }
  for (const t of tokens) {
    process.stdout.write(
      `${t.id}  ${t.kind.padEnd(4)} ${t.scope.padEnd(5)} expires ${t.expiresAt ?? 'never'}  ${t.name}\n`,
    );
  }
  return 0;
}

export async function tokensRevokeCommand(id: string, opts: { server?: string; home?: string }): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  await api.request('DELETE', `/tokens/${encodeURIComponent(id)}`, IGNORE_REPLY);
  process.stdout.write(`revoked ${id}\n`);
  return 0;
}
