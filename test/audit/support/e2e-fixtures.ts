import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import * as tar from 'tar';
import type { AuditEvent } from '@yoke/protocol';
import type { BundleManifest } from '@yoke/audit';
import { hashSecret, newSecret } from '../../../apps/server/src/core/tokens';
import { tempDir } from '../../support/processes';

export type SeededPerson = { userId: string; name: string; token: string };

/**
 * A person of an org with an API token, written straight into the database: identity's sign-in (OIDC) is not what
 * these tests are about. No audit event comes of it — nothing in the product happened.
 */
export async function seedPerson(
  pg: Client,
  orgId: string,
  role: 'member' | 'auditor' | 'admin',
  name: string,
): Promise<SeededPerson> {
  const userId = randomUUID();
  await pg.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
    userId,
    `${name.toLowerCase()}-${userId.slice(0, 8)}@example.test`,
    name,
  ]);
  await pg.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [orgId, userId, role]);
  const token = newSecret('ykt');
  await pg.query('INSERT INTO api_tokens (id, org_id, user_id, name, token_hash) VALUES ($1, $2, $3, $4, $5)', [
    randomUUID(),
    orgId,
    userId,
    'seeded',
    hashSecret(token),
  ]);
  return { userId, name, token };
}

/** Another org, seeded the same way (its log starts empty: nobody created it through the product). */
export async function seedOrg(pg: Client, slug: string): Promise<string> {
  const id = randomUUID();
  await pg.query('INSERT INTO orgs (id, slug, name) VALUES ($1, $2, $3)', [id, slug, slug]);
  return id;
}

/** The manifest and the events of a bundle, as a verifier would read them after unpacking it. */
export async function readBundle(file: string): Promise<{ manifest: BundleManifest; events: AuditEvent[] }> {
  const dir = tempDir('yoke-bundle');
  await tar.x({ file, cwd: dir });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event: AuditEvent }).event);
  return { manifest, events };
}
