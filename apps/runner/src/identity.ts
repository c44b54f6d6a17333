import { join } from 'node:path';
import { z } from 'zod';
import { io, type Socket } from 'socket.io-client';
import {
  API_PREFIX,
  EnrolReply,
  ErrorBody,
  NS_RUNNER,
  PROTOCOL_VERSION,
  RotateCredentialAck,
  type RunnerToServerEvents,
  type ServerToRunnerEvents,
} from '@yoke/protocol';
import { readJson, writeFileAtomic } from './files';

/** What a runner keeps after enrolment: where its server is and its credential (file mode 0600). */
export const RunnerIdentityFile = z.strictObject({
  server: z.string().url(),
  runnerId: z.string().uuid(),
  orgId: z.string().uuid(),
  name: z.string(),
  credential: z.string(),
});
export type RunnerIdentityFile = z.infer<typeof RunnerIdentityFile>;

export function identityPath(home: string): string {
  return join(home, 'runner.json');
}

export function loadIdentity(home: string): RunnerIdentityFile | null {
  const raw = readJson<unknown>(identityPath(home));
  if (raw === null) return null;
  const parsed = RunnerIdentityFile.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${identityPath(home)} is not a valid runner identity: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export class EnrolError extends Error {}

/** Exchanges a one-time enrolment token for a runner credential and stores it under `home`. */
export async function enrol(opts: {
  server: string;
  token: string;
  name: string;
  home: string;
}): Promise<RunnerIdentityFile> {
  const server = opts.server.replace(/\/+$/, '');
  const res = await fetch(`${server}${API_PREFIX}/runners/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: opts.token, name: opts.name, platform: `${process.platform}-${process.arch}` }),
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = ErrorBody.safeParse(body);
    throw new EnrolError(
      `enrolment refused (${res.status}): ${error.success ? error.data.message : 'no reason given'}`,
    );
  }
  const parsed = EnrolReply.safeParse(body);
  if (!parsed.success) {
    throw new EnrolError(
      `the server answered the enrolment with a reply the protocol does not allow: ${z.prettifyError(parsed.error)}`,
    );
  }
  const reply = parsed.data;
  const identity = {
    server,
    runnerId: reply.runnerId,
    orgId: reply.orgId,
    name: opts.name,
    credential: reply.credential,
  };
  writeFileAtomic(identityPath(opts.home), JSON.stringify(identity, null, 2));
  return identity;
}

/**
 * Rotates the runner credential stored under `home`: asks the server for a new one with the current one, and stores
 * it. The old credential keeps working until the new one is first used, so a runner process started before picks
 * the new one up from disk at its next reconnect.
 */
export async function rotateCredential(home: string): Promise<RunnerIdentityFile> {
  const identity = loadIdentity(home);
  if (!identity) throw new Error(`no runner identity in ${home}; run \`yoke runner enrol\` first`);
  const socket = io(`${identity.server}${NS_RUNNER}`, {
    auth: { credential: identity.credential, protocolVersion: PROTOCOL_VERSION },
    transports: ['websocket'],
    reconnection: false,
  }) as Socket<ServerToRunnerEvents, RunnerToServerEvents>;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (err: Error & { data?: { message?: string } }) =>
        reject(new Error(`the server refused this runner: ${err.data?.message ?? err.message}`)),
      );
    });
    const parsed = RotateCredentialAck.safeParse(await socket.timeout(15_000).emitWithAck('runner.rotate_credential'));
    if (!parsed.success) {
      throw new Error(
        `the server answered the rotation with a reply the protocol does not allow: ${z.prettifyError(parsed.error)}`,
      );
    }
    const reply = parsed.data;
    if (!reply.ok) throw new Error(`rotation refused: ${reply.error.message}`);
    const next = { ...identity, credential: reply.credential };
    writeFileAtomic(identityPath(home), JSON.stringify(next, null, 2));
    return next;
  } finally {
    socket.close();
  }
}
