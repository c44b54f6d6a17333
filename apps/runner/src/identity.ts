import { join } from 'node:path';
import { z } from 'zod';
import { type EnrolReply, EnrolReply as EnrolReplySchema, API_PREFIX } from '@yoke/protocol';
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
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new EnrolError(`enrolment refused (${res.status}): ${body.message ?? 'no reason given'}`);
  const reply: EnrolReply = EnrolReplySchema.parse(body);
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
