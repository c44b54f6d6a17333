import { Injectable } from '@nestjs/common';
import type { Actor } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

@Injectable()
export class PolicySetsRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  find(orgId: string) {
    return this.prisma.orgPolicySet.findUnique({ where: { orgId } });
  }

  /**
   * Writes the org's set. With `expectedVersion` the write only happens when the stored version still matches
   * (0 = no set yet); null means someone else wrote first.
   */
  async write(orgId: string, yaml: string, actor: Actor, expectedVersion: number | undefined) {
    return this.db.run(async (tx) => {
      const rows = await tx.$queryRaw<{ version: number }[]>`
        SELECT version FROM org_policies WHERE org_id = ${orgId}::uuid FOR UPDATE`;
      const current = rows[0]?.version ?? 0;
      if (expectedVersion !== undefined && expectedVersion !== current) return null;
      const data = { yaml, version: current + 1, updatedBy: actor as Prisma.InputJsonValue, updatedAt: new Date() };
      return tx.orgPolicySet.upsert({ where: { orgId }, create: { orgId, ...data }, update: data });
    });
  }
}
