import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { hashSecret, newSecret } from '../../apps/server/src/core/tokens';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { createTestDatabase } from '../support/env';
import { type RunnerProc, type Stack, startStack } from '../support/stack';

export const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';

export type Member = { userId: string; name: string; email: string; token: string };

export type CollabStack = {
  stack: Stack;
  model: FakeModel;
  runner: RunnerProc;
  orgId: string;
  owner: { userId: string; name: string };
  /** Another person of the org (role `member`: sees only what is shared with them), with an API token. */
  addMember(name: string): Promise<Member>;
  /** The API token of the owner of a second org (who must meet 404 for everything of this one). */
  addStranger(): Promise<string>;
  /** A statement against the stack's database (to age a link past its expiry without waiting). */
  sql(text: string, params: unknown[]): Promise<void>;
  stop(): Promise<void>;
};

/**
 * A team-mode stack on a database this file can also reach, so tests can add org members with API tokens
 * (identity's sign-in is not needed to act as a second person), a runner and the fake model.
 */
export async function startCollabStack(extraEnv: NodeJS.ProcessEnv = {}): Promise<CollabStack> {
  const db = await createTestDatabase();
  const model = await startFakeModel();
  const stack = await startStack('team', { DATABASE_URL: db.url, ...extraEnv });
  const runner = await stack.startRunner({
    env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' },
  });
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const me = (await stack.api<{ userId: string; orgId: string; name: string }>('GET', '/me')).body;
  const orgId = me.orgId;
  /** A user with a role in an org and an API token (returned). */
  const addUser = async (org: string, userId: string, email: string, name: string, role: string) => {
    await pg.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [userId, email, name]);
    await pg.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [org, userId, role]);
    const token = newSecret('ykt');
    await pg.query('INSERT INTO api_tokens (id, org_id, user_id, name, token_hash) VALUES ($1, $2, $3, $4, $5)', [
      randomUUID(),
      org,
      userId,
      'test',
      hashSecret(token),
    ]);
    return token;
  };
  return {
    stack,
    model,
    runner,
    orgId,
    owner: { userId: me.userId, name: me.name },
    async addMember(name) {
      const userId = randomUUID();
      const email = `${name.toLowerCase()}-${userId.slice(0, 8)}@example.test`;
      const token = await addUser(orgId, userId, email, name, 'member');
      return { userId, name, email, token };
    },
    async addStranger() {
      const otherOrg = randomUUID();
      const userId = randomUUID();
      await pg.query('INSERT INTO orgs (id, slug, name) VALUES ($1, $2, $3)', [
        otherOrg,
        `other-${otherOrg.slice(0, 8)}`,
        'Other',
      ]);
      return addUser(otherOrg, userId, `o-${userId}@example.test`, 'O', 'owner');
    },
    async sql(text, params) {
      await pg.query(text, params);
    },
    async stop() {
      await pg.end().catch(() => undefined);
      await stack.stop();
      await model.close();
      await db.drop().catch(() => undefined);
    },
  };
}
