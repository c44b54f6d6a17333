import { Injectable } from '@nestjs/common';
import type { AuditEvent } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type AuditEventRow = Prisma.AuditEventGetPayload<object>;
export type AuditCheckpointRow = Prisma.AuditCheckpointGetPayload<object>;
export type AuditKeyRow = Prisma.AuditKeyGetPayload<object>;
export type AuditExportRow = Prisma.AuditExportGetPayload<object>;

/** An event ready to store: the event as hashed, its leaf, and its content (stored apart, by hash) if any. */
export type StoredEvent = { event: AuditEvent; leaf: Buffer; content?: { hash: string; body: unknown } };

export type AuditFilter = {
  from?: Date;
  to?: Date;
  actor?: string;
  action?: string;
  outcome?: string;
  sessionId?: string;
};

@Injectable()
export class AuditRepository {
  constructor(private readonly db: Transactions) {}

  private get prisma() {
    return this.db.client;
  }

  /**
   * Appends `count` events to the org's log inside the caller's transaction: takes the head row's lock (held until
   * commit, so concurrent appends of one org serialize and seqs stay gap-free in commit order), then builds the
   * events from the first seq and stores them with their content.
   */
  async append(orgId: string, count: number, build: (firstSeq: number) => StoredEvent[]): Promise<StoredEvent[]> {
    const tx = this.prisma;
    const head = await tx.$queryRaw<{ size: bigint }[]>`
      INSERT INTO audit_heads (org_id, size) VALUES (${orgId}::uuid, ${count})
      ON CONFLICT (org_id) DO UPDATE SET size = audit_heads.size + ${count}
      RETURNING size`;
    const firstSeq = Number(head[0].size) - count + 1;
    const events = build(firstSeq);
    await tx.auditEvent.createMany({
      data: events.map(({ event, leaf }) => ({
        orgId,
        seq: BigInt(event.seq),
        id: event.id,
        at: new Date(event.at),
        actorKind: event.actor.kind,
        actorId: event.actor.id,
        action: event.action,
        outcome: event.outcome,
        sessionId: event.sessionId,
        event: event as unknown as Prisma.InputJsonValue,
        leaf: new Uint8Array(leaf),
        contentHash: event.contentHash,
      })),
    });
    const contents = events.flatMap((e) => (e.content ? [e.content] : []));
    if (contents.length > 0) {
      await tx.auditContent.createMany({
        data: contents.map((c) => ({ orgId, hash: c.hash, body: c.body as Prisma.InputJsonValue })),
        skipDuplicates: true,
      });
    }
    return events;
  }

  size(orgId: string) {
    return this.prisma.auditHead.findUnique({ where: { orgId } }).then((h) => Number(h?.size ?? 0));
  }

  orgsWithLogs() {
    return this.prisma.auditHead.findMany({ select: { orgId: true, size: true } });
  }

  list(orgId: string, filter: AuditFilter, after: number, limit: number) {
    return this.prisma.auditEvent.findMany({
      where: { orgId, seq: { gt: BigInt(after) }, ...where(filter) },
      orderBy: { seq: 'asc' },
      take: limit,
    });
  }

  count(orgId: string, filter: AuditFilter, maxSeq: number) {
    return this.prisma.auditEvent.count({ where: { orgId, seq: { lte: BigInt(maxSeq) }, ...where(filter) } });
  }

  /** Events in seq order, `batch` at a time, for exports: keyset paging, so memory stays flat at any size. */
  async *stream(orgId: string, filter: AuditFilter, maxSeq: number, batch = 2_000): AsyncGenerator<AuditEventRow> {
    let after = 0n;
    for (;;) {
      const rows = await this.prisma.auditEvent.findMany({
        where: { orgId, seq: { gt: after, lte: BigInt(maxSeq) }, ...where(filter) },
        orderBy: { seq: 'asc' },
        take: batch,
      });
      yield* rows;
      if (rows.length < batch) return;
      after = rows[rows.length - 1].seq;
    }
  }

  /** Recorded leaf hashes of seqs (lo, hi], ascending, `batch` at a time. */
  async *leaves(orgId: string, lo: number, hi: number, batch = 10_000): AsyncGenerator<Buffer> {
    let after = lo;
    while (after < hi) {
      const rows = await this.prisma.$queryRaw<{ seq: bigint; leaf: Uint8Array }[]>`
        SELECT seq, leaf FROM audit_events
        WHERE org_id = ${orgId}::uuid AND seq > ${after} AND seq <= ${hi}
        ORDER BY seq LIMIT ${batch}`;
      if (rows.length === 0) return;
      for (const r of rows) yield Buffer.from(r.leaf);
      after = Number(rows[rows.length - 1].seq);
    }
  }

  contents(orgId: string, hashes: string[]) {
    return this.prisma.auditContent.findMany({
      where: { orgId, hash: { in: hashes } },
      select: { hash: true, redactedRule: true, redactedAt: true },
    });
  }

  /** Serializes checkpointing of one org across replicas (transaction-scoped advisory lock). */
  async lockCheckpoints(orgId: string): Promise<void> {
    await this.prisma.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('audit-checkpoint:' || ${orgId}))`;
  }

  latestCheckpoint(orgId: string) {
    return this.prisma.auditCheckpoint.findFirst({ where: { orgId }, orderBy: [{ size: 'desc' }, { at: 'desc' }] });
  }

  addCheckpoint(data: {
    orgId: string;
    size: number;
    root: Buffer;
    frontier: unknown;
    keyId: string;
    note: string;
    at: Date;
  }) {
    return this.prisma.auditCheckpoint.create({
      data: {
        ...data,
        id: undefined,
        size: BigInt(data.size),
        root: new Uint8Array(data.root),
        frontier: data.frontier as Prisma.InputJsonValue,
      },
    });
  }

  checkpoints(orgId: string, opts: { fromSize?: number; toSize?: number; limit: number; desc?: boolean }) {
    return this.prisma.auditCheckpoint.findMany({
      where: {
        orgId,
        size: {
          ...(opts.fromSize !== undefined ? { gte: BigInt(opts.fromSize) } : {}),
          ...(opts.toSize !== undefined ? { lte: BigInt(opts.toSize) } : {}),
        },
      },
      orderBy: opts.desc ? [{ size: 'desc' }, { at: 'desc' }] : [{ size: 'asc' }, { at: 'asc' }],
      take: opts.limit,
    });
  }

  /** The latest checkpoint at or below `size` (the one an export's range starts from). */
  checkpointAtOrBelow(orgId: string, size: number) {
    return this.prisma.auditCheckpoint.findFirst({
      where: { orgId, size: { lte: BigInt(size) } },
      orderBy: [{ size: 'desc' }, { at: 'desc' }],
    });
  }

  keys() {
    return this.prisma.auditKey.findMany({ orderBy: { createdAt: 'asc' } });
  }

  activeKey() {
    return this.prisma.auditKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
  }

  async addKey(key: { id: string; name: string; publicKey: Buffer; privateKey: string | null }, retireOthers: boolean) {
    if (retireOthers) {
      await this.prisma.auditKey.updateMany({ where: { retiredAt: null }, data: { retiredAt: new Date() } });
    }
    return this.prisma.auditKey.upsert({
      where: { id: key.id },
      update: { retiredAt: null },
      create: { ...key, publicKey: new Uint8Array(key.publicKey) },
    });
  }

  createExport(data: { orgId: string; requestedBy: string; filters: object; format: string }) {
    return this.prisma.auditExport.create({
      data: { ...data, filters: data.filters as Prisma.InputJsonValue, status: 'queued' },
    });
  }

  findExport(orgId: string, id: string) {
    return this.prisma.auditExport.findFirst({ where: { orgId, id } });
  }

  updateExport(
    id: string,
    data: Partial<{
      status: string;
      progress: number;
      events: number;
      bytes: number;
      sha256: string;
      path: string;
      error: string;
      finishedAt: Date;
    }>,
  ) {
    return this.prisma.auditExport.update({
      where: { id },
      data: {
        ...data,
        events: data.events === undefined ? undefined : BigInt(data.events),
        bytes: data.bytes === undefined ? undefined : BigInt(data.bytes),
      },
    });
  }
}

function where(f: AuditFilter): Prisma.AuditEventWhereInput {
  return {
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
    ...(f.actor ? { actorId: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.sessionId ? { sessionId: f.sessionId } : {}),
  };
}
