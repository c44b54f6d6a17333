import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppError } from '@yoke/protocol';
import { factories, type Factories, migratedDatabase } from '../../../../../test/support/factories';
import { CoreModule } from '../../core/core.module';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { PrismaService } from '../../core/prisma/prisma.service';
import { Transactions } from '../../core/prisma/transactions';
import { JobQueue } from '../../core/queue/job-queue';
import { QueueModule } from '../../core/queue/queue.module';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import type { Principal } from '../../core/auth/principal';
import { AuditModule } from '../audit/audit.module';
import { AuditTrail } from '../audit/audit-trail.service';
import { AuthRepository } from '../auth/auth.repository';
import { SecretBox } from '../../core/auth/secret-box';
import { TokensService } from '../auth/tokens.service';
import { OrgsModule } from '../orgs/orgs.module';
import { OrgsService } from './orgs.service';
import { RunnersRepository } from '../runners/runners.repository';
import { RunnersService } from '../runners/runners.service';

/**
 * The org-admin rules that refuse a destructive action, through the real services on a real database: an embedded
 * server keeps its local runner, an org keeps its last owner. Each refusal is a typed error and changes nothing.
 */
describe('refused destructive actions (real Postgres)', () => {
  let ctx: INestApplicationContext;
  let drop: () => Promise<void>;
  let f: Factories;
  let prisma: PrismaService;

  /** The runners service as the app wires it, in the given mode. */
  const runners = (embedded: boolean) =>
    new RunnersService(
      ctx.get(RunnersRepository),
      ctx.get(JobQueue),
      ctx.get(RealtimePublisher),
      ctx.get(Transactions),
      ctx.get(AuditTrail),
      { ...ctx.get<AppConfig>(APP_CONFIG), embedded },
    );

  const ownerOf = async (): Promise<Principal> => {
    const { org, owner } = await f.orgWithOwner();
    return { userId: owner.id, orgId: org.id, name: owner.name, email: owner.email, role: 'owner' };
  };
  const revokedAt = async (id: string) => (await prisma.runner.findUniqueOrThrow({ where: { id } })).revokedAt;
  const roleOf = async (orgId: string, userId: string) =>
    (await prisma.membership.findFirst({ where: { orgId, userId } }))?.role ?? null;

  beforeAll(async () => {
    const db = await migratedDatabase();
    drop = db.drop;
    @Module({
      imports: [CoreModule.forRoot(db.config, db.url, null), QueueModule, AuditModule, OrgsModule],
      providers: [RunnersRepository, AuthRepository, SecretBox, TokensService, OrgsService],
    })
    class TestModule {}
    ctx = await NestFactory.createApplicationContext(TestModule, { logger: false });
    prisma = ctx.get(PrismaService);
    f = factories(prisma);
  });

  afterAll(async () => {
    await ctx?.close();
    await drop?.();
  });

  it("embedded mode refuses to revoke the org's only runner (the local one) and changes nothing", async () => {
    const p = await ownerOf();
    const runner = await f.runner(p.orgId);
    const err = (await runners(true)
      .revoke(p, runner.id)
      .catch((e: unknown) => e)) as AppError;
    expect(err).toMatchObject({ code: 'runner.local_runner' });
    expect(err.message).toContain('local runner');
    expect(await revokedAt(runner.id)).toBeNull();
  });

  it('embedded mode revokes a runner when another one remains', async () => {
    const p = await ownerOf();
    const first = await f.runner(p.orgId);
    await f.runner(p.orgId);
    await runners(true).revoke(p, first.id);
    expect(await revokedAt(first.id)).not.toBeNull();
  });

  it("team mode revokes an org's only runner", async () => {
    const p = await ownerOf();
    const runner = await f.runner(p.orgId);
    await runners(false).revoke(p, runner.id);
    expect(await revokedAt(runner.id)).not.toBeNull();
  });

  it('refuses to remove the last owner, saying why, and changes nothing', async () => {
    const p = await ownerOf();
    const err = (await ctx
      .get(OrgsService)
      .remove(p, p.userId)
      .catch((e: unknown) => e)) as AppError;
    expect(err).toMatchObject({ code: 'member.last_owner' });
    expect(err.message).toContain('last owner');
    expect(await roleOf(p.orgId, p.userId)).toBe('owner');
  });

  it('refuses to demote the last owner and changes nothing', async () => {
    const p = await ownerOf();
    await expect(ctx.get(OrgsService).setRole(p, p.userId, 'admin')).rejects.toMatchObject({
      code: 'member.last_owner',
    });
    expect(await roleOf(p.orgId, p.userId)).toBe('owner');
  });

  it('removes an owner while another owner remains', async () => {
    const p = await ownerOf();
    const other = await f.member(p.orgId, 'owner');
    await ctx.get(OrgsService).remove(p, other.id);
    expect(await roleOf(p.orgId, other.id)).toBeNull();
  });
});
