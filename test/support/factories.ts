/**
 * Integration tests of the middle tier: a real PrismaService on a fresh, migrated database per test file, and one
 * set of factories that seed orgs, users, runners, sessions and items. Every factory call makes new rows with unique
 * slugs, emails and hashes, so each test builds its own data and never depends on what another test left behind.
 */
import type { ItemDraft, OrgRole } from '@yoke/protocol';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../apps/server/src/core/config/config';
import { runMigrations } from '../../apps/server/src/core/database/migrate';
import { PrismaService } from '../../apps/server/src/core/prisma/prisma.service';
import { Transactions } from '../../apps/server/src/core/prisma/transactions';
import type { Prisma } from '../../apps/server/src/generated/prisma/client';
import { createTestDatabase, uniqueName } from './env';

export type TestDatabase = {
  prisma: PrismaService;
  /** What repositories take: the Prisma service, joined to the caller's transaction when there is one. */
  transactions: Transactions;
  url: string;
  close(): Promise<void>;
};

/** A new database with every migration applied, and a team-mode config on it (no Redis, silent logs, plus `env`). */
export async function migratedDatabase(env: NodeJS.ProcessEnv = {}) {
  const db = await createTestDatabase();
  await runMigrations(db.url);
  const config = loadConfig({ DATABASE_URL: db.url, YOKE_EMBEDDED: '0', LOG_LEVEL: 'silent', ...env });
  return { ...db, config };
}

/** A new migrated database and the server's own Prisma service (team-mode pool) on it. */
export async function startTestDatabase(): Promise<TestDatabase> {
  const db = await migratedDatabase();
  const prisma = new PrismaService(db.url, db.config);
  return {
    prisma,
    transactions: new Transactions(prisma),
    url: db.url,
    async close() {
      await prisma.$disconnect();
      await db.drop();
    },
  };
}

/** A random value for a unique hashed column (token, credential, state hashes). */
export const hash = (): string => randomBytes(16).toString('hex');

/** Runner-side item drafts, as a runner sends them. */
export const draft = {
  notice: (seq: number, text = `note ${seq}`): ItemDraft => ({
    seq,
    type: 'notice',
    level: 'info',
    text,
    createdAt: new Date().toISOString(),
  }),
  /** Items 1..n (or from..to) in order. */
  notices: (from: number, to: number): ItemDraft[] =>
    Array.from({ length: to - from + 1 }, (_, i) => draft.notice(from + i)),
};

export function factories(prisma: PrismaService) {
  const f = {
    org(data: Partial<Prisma.OrgUncheckedCreateInput> = {}) {
      const slug = uniqueName('org').replace(/_/g, '-');
      return prisma.org.create({ data: { slug, name: slug, ...data } });
    },
    user(data: Partial<Prisma.UserUncheckedCreateInput> = {}) {
      const name = uniqueName('user');
      return prisma.user.create({ data: { email: `${name}@example.test`, name, ...data } });
    },
    /** A new user who is a member of the org with this role. */
    async member(orgId: string, role: OrgRole = 'member') {
      const user = await f.user();
      await prisma.membership.create({ data: { orgId, userId: user.id, role } });
      return user;
    },
    /** A new org with its owner. */
    async orgWithOwner() {
      const org = await f.org();
      const owner = await f.member(org.id, 'owner');
      return { org, owner };
    },
    runner(orgId: string, data: Partial<Prisma.RunnerUncheckedCreateInput> = {}) {
      return prisma.runner.create({ data: { orgId, name: uniqueName('runner'), credentialHash: hash(), ...data } });
    },
    apiToken(orgId: string, userId: string, data: Partial<Prisma.ApiTokenUncheckedCreateInput> = {}) {
      return prisma.apiToken.create({ data: { orgId, userId, name: uniqueName('token'), tokenHash: hash(), ...data } });
    },
    session(orgId: string, ownerId: string, data: Partial<Prisma.SessionUncheckedCreateInput> = {}) {
      return prisma.session.create({
        data: {
          orgId,
          ownerId,
          title: uniqueName('session'),
          agent: { name: 'helper', prompt: 'You help.' },
          harness: 'yoke',
          ...data,
        },
      });
    },
    /** An org, its owner, a runner and a session of the owner's on that runner. */
    async seeded() {
      const { org, owner } = await f.orgWithOwner();
      const runner = await f.runner(org.id);
      const session = await f.session(org.id, owner.id, { runnerId: runner.id });
      return { org, owner, runner, session };
    },
    approval(orgId: string, sessionId: string, data: Partial<Prisma.ApprovalUncheckedCreateInput> = {}) {
      return prisma.approval.create({
        data: {
          orgId,
          sessionId,
          approvalId: randomUUID(),
          policy: 'ask-before-shell',
          reason: 'runs a command',
          options: ['approve', 'deny'],
          ...data,
        },
      });
    },
  };
  return f;
}

export type Factories = ReturnType<typeof factories>;

/** What a repository spec works with: filled in by the spec's beforeAll, so read it inside tests only. */
export interface RepositoryTest<R> {
  readonly db: TestDatabase;
  readonly repo: R;
  readonly f: Factories;
}

/**
 * Registers a repository spec's set-up in the calling describe block: a fresh database (closed after the block),
 * the repository `make` builds on it, and factories.
 */
export function useRepository<R>(make: (db: TestDatabase) => R): RepositoryTest<R> {
  const t: { db?: TestDatabase; repo?: R; f?: Factories } = {};
  beforeAll(async () => {
    t.db = await startTestDatabase();
    t.repo = make(t.db);
    t.f = factories(t.db.prisma);
  });
  afterAll(() => t.db?.close());
  return t as RepositoryTest<R>;
}
