import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type AuditEventRow = Prisma.AuditEventGetPayload<object>;
export type AuditCheckpointRow = Prisma.AuditCheckpointGetPayload<object>;
export type AuditKeyRow = Prisma.AuditKeyGetPayload<object>;
export type AuditExportRow = Prisma.AuditExportGetPayload<object>;

/**
 * An event ready to store before its seq and time are known: its columns, and its RFC 8785 text split around the
 * time's and the seq's values, so Postgres fills both in and hashes the leaf in the append statement.
 */
export type PreparedEvent = {
  id: string;
  actorKind: string;
  actorId: string;
  action: string;
  outcome: string;
  sessionId: string | null;
  contentHash: string | null;
  /** Canonical text up to the time's value (ends with `"at":"`), from it to the seq's, and after the seq. */
  head: string;
  middle: string;
  suffix: string;
};

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
   * Appends events to the org's log inside the caller's transaction, in one statement: bumps the head (its row lock
   * is held until commit, so concurrent appends of one org serialize and seqs stay gap-free in commit order), stores
   * the content rows, and stores each event with its seq and time filled in and its leaf hashed by Postgres:
   * `SHA-256(0x00 ‖ head ‖ time ‖ middle ‖ seq ‖ suffix)`, the pieces being the event's RFC 8785 text around its
   * time and seq. The time is read under the head's lock, so times follow seqs. Returns the first seq and the time.
   */
  async append(
    orgId: string,
    events: PreparedEvent[],
    contents: { hash: string; body: unknown }[],
  ): Promise<{ firstSeq: number; at: string }> {
    const n = events.length;
    // Rows travel as one JSON parameter each (jsonb_to_recordset): one statement, whatever the batch.
    const eventRows = JSON.stringify(events.map((e, i) => ({ ...e, ord: i + 1 })));
    const contentRows = JSON.stringify(contents);
    const rows = await this.prisma.$queryRaw<{ base: bigint; iso: string }[]>`
      WITH head AS (
        INSERT INTO audit_heads (org_id, size) VALUES (${orgId}::uuid, ${n})
        ON CONFLICT (org_id) DO UPDATE SET size = audit_heads.size + ${n}
        RETURNING size - ${n} AS base, date_trunc('milliseconds', clock_timestamp()) AS at
      ), stamp AS (
        SELECT base, at, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso FROM head
      ), contents AS (
        INSERT INTO audit_contents (org_id, hash, body)
        SELECT ${orgId}::uuid, c.hash, c.body FROM jsonb_to_recordset(${contentRows}::jsonb) AS c(hash text, body jsonb)
        ON CONFLICT (org_id, hash) DO NOTHING
      ), rows AS (
        SELECT stamp.base + r.ord AS seq, stamp.at, r.head || stamp.iso || r.middle AS prefix, r.*
        FROM stamp, jsonb_to_recordset(${eventRows}::jsonb) AS r(
          ord int, id uuid, "actorKind" text, "actorId" text, action text, outcome text,
          "sessionId" uuid, "contentHash" text, head text, middle text, suffix text)
      ), inserted AS (
        INSERT INTO audit_events
          (org_id, seq, id, at, actor_kind, actor_id, action, outcome, session_id, event, leaf, content_hash)
        SELECT ${orgId}::uuid, seq, id, at, "actorKind", "actorId", action, outcome, "sessionId",
          (prefix || seq::text || suffix)::jsonb,
          sha256('\\x00'::bytea || convert_to(prefix || seq::text || suffix, 'UTF8')),
          "contentHash"
        FROM rows
      )
      SELECT base, iso FROM stamp`;
    return { firstSeq: Number(rows[0].base) + 1, at: rows[0].iso };
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

  /**
   * Redacts content rows (the only change the table's trigger allows): the body is erased and the rule and time are
   * recorded; the events that name the content by hash keep verifying. Rows already redacted stay as they are.
   */
  redactContents(orgId: string, hashes: string[], rule: string, at: Date): Promise<number> {
    if (hashes.length === 0) return Promise.resolve(0);
    return this.prisma.auditContent
      .updateMany({
        where: { orgId, hash: { in: hashes }, redactedAt: null },
        data: { body: Prisma.DbNull, redactedRule: rule, redactedAt: at },
      })
      .then((r) => r.count);
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
