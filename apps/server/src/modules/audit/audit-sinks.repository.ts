import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type AuditSinkRow = Prisma.AuditSinkGetPayload<object>;

/** Where org audit logs are streamed, and how far each sink got (its cursor). */
@Injectable()
export class AuditSinksRepository {
  constructor(private readonly db: Transactions) {}

  private get prisma() {
    return this.db.client;
  }

  list(orgId: string) {
    return this.prisma.auditSink.findMany({ where: { orgId }, orderBy: { createdAt: 'asc' } });
  }

  find(orgId: string, id: string) {
    return this.prisma.auditSink.findFirst({ where: { orgId, id } });
  }

  create(data: {
    orgId: string;
    name: string;
    kind: string;
    url: string;
    format: string;
    secretEnc: string | null;
    cursor: number;
  }) {
    return this.prisma.auditSink.create({ data: { ...data, cursor: BigInt(data.cursor) } });
  }

  /** The updated sink, or null when the org has no such sink. */
  async update(
    orgId: string,
    id: string,
    data: Partial<{ name: string; enabled: boolean; url: string; format: string }>,
  ): Promise<AuditSinkRow | null> {
    const { count } = await this.prisma.auditSink.updateMany({ where: { orgId, id }, data });
    return count === 1 ? this.find(orgId, id) : null;
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.auditSink.deleteMany({ where: { orgId, id } });
    return count === 1;
  }

  enabledIds(orgId: string) {
    return this.prisma.auditSink.findMany({ where: { orgId, enabled: true }, select: { id: true } });
  }

  /** Enabled sinks with events still to deliver, every org. */
  behind() {
    return this.prisma.$queryRaw<{ id: string; orgId: string }[]>`
      SELECT s.id, s.org_id AS "orgId" FROM audit_sinks s JOIN audit_heads h ON h.org_id = s.org_id
      WHERE s.enabled AND h.size > s.cursor`;
  }

  /**
   * Moves the cursor from `from` to `to` and clears the failure, only if it still is at `from` (compare-and-set): two
   * deliveries racing never move it backwards or past events neither sent. Whether it moved.
   */
  async advance(id: string, from: number, to: number): Promise<boolean> {
    const { count } = await this.prisma.auditSink.updateMany({
      where: { id, cursor: BigInt(from) },
      data: {
        cursor: BigInt(to),
        lastDeliveredAt: new Date(),
        lastError: null,
        failingSince: null,
        attempts: 0,
      },
    });
    return count === 1;
  }

  /** A failed delivery: its error, when failures began (kept from the first one), how many in a row. */
  async recordFailure(id: string, error: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE audit_sinks
      SET last_error = ${error}, failing_since = COALESCE(failing_since, now()), attempts = attempts + 1
      WHERE id = ${id}::uuid`;
  }
}
