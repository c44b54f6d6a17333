import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/prisma/transactions';

@Injectable()
export class RunnersRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  createEnrolment(data: { orgId: string; createdById: string; name?: string; tokenHash: string; expiresAt: Date }) {
    return this.prisma.runnerEnrolment.create({ data });
  }

  /** Uses a one-time enrolment token and creates its runner, atomically: a token works once. */
  async enrolWithToken(
    tokenHash: string,
    now: Date,
    runner: { name: string; platform?: string; credentialHash: string },
  ) {
    return this.db.run(async (tx) => {
      const enrolment = await tx.runnerEnrolment.findUnique({ where: { tokenHash } });
      if (!enrolment || enrolment.usedAt || enrolment.expiresAt <= now) return null;
      const used = await tx.runnerEnrolment.updateMany({
        where: { id: enrolment.id, usedAt: null },
        data: { usedAt: now },
      });
      if (used.count !== 1) return null;
      const created = await tx.runner.create({ data: { orgId: enrolment.orgId, ...runner } });
      await tx.runnerEnrolment.update({ where: { id: enrolment.id }, data: { runnerId: created.id } });
      return created;
    });
  }

  /** The runner holding a credential: its current one, or the one before the last rotation (until the new one is used). */
  async findByCredentialHash(credentialHash: string) {
    const current = await this.prisma.runner.findUnique({ where: { credentialHash } });
    if (current) {
      if (current.previousCredentialHash) {
        await this.prisma.runner.update({ where: { id: current.id }, data: { previousCredentialHash: null } });
      }
      return current;
    }
    return this.prisma.runner.findUnique({ where: { previousCredentialHash: credentialHash } });
  }

  /** Replaces a live runner's credential; the previous one keeps working until the new one is first used. */
  async rotateCredential(orgId: string, id: string, credentialHash: string, now: Date) {
    const r = await this.prisma.runner.findFirst({ where: { orgId, id, revokedAt: null } });
    if (!r) return null;
    return this.prisma.runner.update({
      where: { id },
      data: { credentialHash, previousCredentialHash: r.credentialHash, credentialRotatedAt: now },
    });
  }

  /** Revokes a live runner of the org; false when there is none. */
  async revoke(orgId: string, id: string, now: Date): Promise<boolean> {
    const r = await this.prisma.runner.updateMany({
      where: { orgId, id, revokedAt: null },
      data: { revokedAt: now, online: false },
    });
    return r.count === 1;
  }

  list(orgId: string) {
    return this.prisma.runner.findMany({ where: { orgId, revokedAt: null }, orderBy: { createdAt: 'asc' } });
  }

  findById(orgId: string, id: string) {
    return this.prisma.runner.findFirst({ where: { orgId, id, revokedAt: null } });
  }

  /** The most recently seen live runner of an org. */
  findAvailable(orgId: string, seenSince: Date) {
    return this.prisma.runner.findFirst({
      where: { orgId, revokedAt: null, online: true, lastSeenAt: { gte: seenSince } },
      orderBy: { lastSeenAt: 'desc' },
    });
  }

  setOnline(id: string, online: boolean, at: Date) {
    return this.prisma.runner.update({ where: { id }, data: { online, lastSeenAt: at } });
  }

  touch(id: string, at: Date) {
    return this.prisma.runner.update({ where: { id }, data: { lastSeenAt: at, online: true } });
  }
}
