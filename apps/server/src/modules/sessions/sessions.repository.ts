import { Injectable } from '@nestjs/common';
import {
  AppError,
  type ApprovalStatus,
  approvalStatusFor,
  type InboxInput,
  type ItemDraft,
  priceCall,
  usageMismatch,
} from '@yoke/protocol';
import { Prisma, type SessionStatus } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';
import type { InboxRow } from './inbox.repository';
import { rollUp } from './session-status';

const withRunner = { runner: { select: { online: true, lastSeenAt: true, name: true, revokedAt: true } } } as const;
export type SessionRow = Prisma.SessionGetPayload<{ include: typeof withRunner }>;
export type ItemRow = Prisma.SessionItemGetPayload<object>;

export type NewSession = {
  orgId: string;
  ownerId: string;
  runnerId: string;
  title: string;
  agent: object;
  harness: string;
  model: string | null;
  workspace: string | null;
  policies: object[];
  idempotencyKey: string | null;
  /** The session whose `delegate` call started this one. */
  parentId?: string | null;
  /** A fork: the session whose items 1..seq it starts with, under the same seqs. */
  forkedFrom?: { sessionId: string; seq: number } | null;
};

/** An approval a batch's decision item settles: when it was requested, and its status before that item. */
export type DecidedApproval = { requestedAt: Date; previous: ApprovalStatus };
/** A turn whose harness-reported cost and metered cost differ beyond rounding (`usageMismatch`). */
export type UsageMismatch = { turnId: string; reportedMicros: number; meteredMicros: number; calls: number };

/** An inbox entry written with its session: the input and its idempotency key within the session. */
export type NewInbox = { input: InboxInput; key: string };

@Injectable()
export class SessionsRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  /**
   * Creates a session in one transaction: its row, for a fork the parent's items 1..seq under the same seqs, and its
   * first inbox entries (start, then the optional prompt). Under a creation key already used it creates nothing and
   * returns the session that key made.
   */
  async create(data: NewSession, inputs: (sessionId: string) => NewInbox[]) {
    return this.db.run(async (tx) => {
      if (data.idempotencyKey) {
        const existing = await tx.session.findFirst({
          where: { orgId: data.orgId, ownerId: data.ownerId, idempotencyKey: data.idempotencyKey },
          include: withRunner,
        });
        if (existing) return { session: existing, inbox: [] as InboxRow[], created: false };
      }
      const { forkedFrom, ...fields } = data;
      const session = await tx.session.create({
        data: {
          ...fields,
          agent: data.agent as Prisma.InputJsonValue,
          policies: data.policies as Prisma.InputJsonValue,
          ...(forkedFrom
            ? { forkedFromId: forkedFrom.sessionId, forkedFromSeq: forkedFrom.seq, lastSeq: forkedFrom.seq }
            : {}),
        },
        include: withRunner,
      });
      if (forkedFrom) await copyItems(tx, data.orgId, forkedFrom, session.id);
      const inbox: InboxRow[] = [];
      for (const { input, key } of inputs(session.id)) {
        inbox.push(
          await tx.inboxEntry.create({
            data: {
              orgId: data.orgId,
              sessionId: session.id,
              kind: input.kind,
              input: input as Prisma.InputJsonValue,
              idempotencyKey: key,
            },
          }),
        );
      }
      return { session, inbox, created: true };
    });
  }

  findById(orgId: string, id: string) {
    return this.prisma.session.findFirst({ where: { orgId, id }, include: withRunner });
  }

  /** A session by its creation key (a child session is keyed by its parent's delegate call). */
  findByIdempotencyKey(orgId: string, ownerId: string, idempotencyKey: string) {
    return this.prisma.session.findFirst({ where: { orgId, ownerId, idempotencyKey }, include: withRunner });
  }

  /** Records the harness and model a session runs on from its next turn (a message switched them). */
  setRuntime(orgId: string, id: string, runtime: { harness: string; model: string | null }) {
    return this.prisma.session.update({ where: { id, orgId }, data: runtime, include: withRunner });
  }

  /**
   * Archives a session in one statement, only from a status where no turn runs or waits (idle, failed) and while no
   * prompt waits for its runner; or restores an archived one to idle. False when nothing changed (the caller reads
   * why).
   */
  async setArchived(orgId: string, id: string, archived: boolean): Promise<boolean> {
    const changed = archived
      ? await this.prisma.$executeRaw`
          UPDATE sessions SET status = 'archived', updated_at = now()
          WHERE org_id = ${orgId}::uuid AND id = ${id}::uuid AND status IN ('idle', 'failed')
            AND NOT EXISTS (
              SELECT 1 FROM inbox_entries
              WHERE session_id = ${id}::uuid AND kind = 'message' AND delivered_at IS NULL)`
      : await this.prisma.$executeRaw`
          UPDATE sessions SET status = 'idle', updated_at = now()
          WHERE org_id = ${orgId}::uuid AND id = ${id}::uuid AND status = 'archived'`;
    return changed === 1;
  }

  /** Runner-side lookup: a session by id, with the runner it is assigned to. */
  findForRunner(id: string) {
    return this.prisma.session.findUnique({ where: { id }, select: { id: true, orgId: true, runnerId: true } });
  }

  listForRunner(runnerId: string, limit: number) {
    return this.prisma.session.findMany({
      where: { runnerId, status: { not: 'archived' } },
      include: withRunner,
      orderBy: { updatedAt: 'desc' },
      take: limit,
    });
  }

  items(orgId: string, sessionId: string, afterSeq: number, limit: number) {
    return this.prisma.sessionItem.findMany({
      where: { orgId, sessionId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit + 1,
    });
  }

  /**
   * Appends a runner's items to the log exactly once. Items at or below the stored `last_seq` are replays and
   * are skipped; the rest must continue the log without a gap. The session row is locked for the duration, so
   * concurrent batches for one session serialize. For each approval decision among the new items it returns the
   * approval as it found it (when it was requested, its status before), for the audit trail.
   */
  async appendItems(sessionId: string, drafts: ItemDraft[]) {
    return this.db.run(async (tx) => {
      // One read of the row, locked: its log position and what the roll-up and the usage facts need.
      const [current] = await tx.$queryRaw<LockedSession[]>`
        SELECT id, org_id AS "orgId", owner_id AS "ownerId", harness, agent, status::text AS status,
               status_reason AS "statusReason", last_seq AS "lastSeq", cost_usd AS "costUsd",
               input_tokens AS "inputTokens", output_tokens AS "outputTokens"
        FROM sessions WHERE id = ${sessionId}::uuid FOR UPDATE`;
      if (!current) throw new AppError('session.not_found', 'no such session');
      const lastSeq = current.lastSeq;
      const fresh = drafts.filter((d) => d.seq > lastSeq);
      const approvals = new Map<string, DecidedApproval>();
      const mismatches: UsageMismatch[] = [];
      if (fresh.length === 0) {
        return { appended: [] as ItemDraft[], session: null, lastSeq, changed: false, approvals, mismatches };
      }
      if (fresh[0].seq !== lastSeq + 1) {
        throw new AppError('event.seq_gap', `expected seq ${lastSeq + 1}, got ${fresh[0].seq}`, {
          expectedSeq: lastSeq + 1,
        });
      }
      await insertItems(tx, current.orgId, sessionId, fresh);
      await recordApprovals(tx, current.orgId, sessionId, fresh, approvals);
      await recordMeteredUsage(tx, current, fresh, mismatches);
      const next = rollUp(
        {
          status: current.status,
          statusReason: current.statusReason,
          costUsd: Number(current.costUsd),
          inputTokens: Number(current.inputTokens),
          outputTokens: Number(current.outputTokens),
        },
        fresh,
      );
      const newLast = fresh[fresh.length - 1].seq;
      const changed =
        next.status !== current.status ||
        next.statusReason !== current.statusReason ||
        next.costUsd !== Number(current.costUsd) ||
        next.inputTokens !== Number(current.inputTokens);
      // One statement, nothing read back: the caller reads the whole row only when it publishes it.
      await tx.$executeRaw`
        UPDATE sessions SET last_seq = ${newLast}, status = ${next.status}::session_status,
               status_reason = ${next.statusReason}, cost_usd = ${next.costUsd.toFixed(6)}::numeric,
               input_tokens = ${BigInt(next.inputTokens)}, output_tokens = ${BigInt(next.outputTokens)},
               updated_at = now()
        WHERE id = ${sessionId}::uuid`;
      const session = { id: sessionId, orgId: current.orgId, ownerId: current.ownerId };
      return { appended: fresh, session, lastSeq: newLast, changed, approvals, mismatches };
    });
  }

  /** Marks the runner's sessions that are still mid-turn as failed, with the reason; returns them. */
  async failActiveSessions(orgId: string, runnerId: string, reason: string) {
    const where = {
      orgId,
      runnerId,
      status: { in: ['running', 'waiting_approval'] as ('running' | 'waiting_approval')[] },
    };
    const active = await this.prisma.session.findMany({ where, select: { id: true } });
    if (active.length === 0) return [];
    const ids = active.map((s) => s.id);
    await this.prisma.session.updateMany({
      where: { ...where, id: { in: ids } },
      data: { status: 'failed', statusReason: reason },
    });
    return this.prisma.session.findMany({ where: { orgId, id: { in: ids } }, include: withRunner });
  }

  persistedSeqs(runnerId: string, sessionIds: string[]) {
    return this.prisma.session.findMany({
      where: { runnerId, id: { in: sessionIds } },
      select: { id: true, lastSeq: true },
    });
  }
}

/**
 * A fork's history: the parent's items 1..seq copied under the same seqs in one statement. A log has no gaps, so
 * anything but `seq` rows copied means the parent has no item `seq`: the fork fails (and its transaction with it).
 */
async function copyItems(
  tx: Prisma.TransactionClient,
  orgId: string,
  from: { sessionId: string; seq: number },
  sessionId: string,
) {
  const copied = await tx.$executeRaw`
    INSERT INTO session_items (session_id, seq, org_id, type, turn_id, actor, body, created_at)
    SELECT ${sessionId}::uuid, seq, org_id, type, turn_id, actor, body, created_at
    FROM session_items WHERE session_id = ${from.sessionId}::uuid AND org_id = ${orgId}::uuid AND seq <= ${from.seq}`;
  if (copied === from.seq) return;
  const parent = await tx.session.findFirst({ where: { orgId, id: from.sessionId }, select: { lastSeq: true } });
  if (!parent) throw new AppError('session.not_found', 'no such session');
  throw new AppError('request.invalid', `the session has no item ${from.seq} (its last is ${parent.lastSeq})`);
}

/**
 * Approval rows follow their items: a request opens one; a decision item settles it if nobody did yet. The row is
 * locked before a decision reads it, so an API decision landing at the same moment cannot slip in between.
 */
async function recordApprovals(
  tx: Prisma.TransactionClient,
  orgId: string,
  sessionId: string,
  items: ItemDraft[],
  decided: Map<string, DecidedApproval>,
) {
  for (const item of items) {
    if (item.type === 'approval_request') {
      await tx.approval.createMany({
        data: [
          {
            sessionId,
            orgId,
            approvalId: item.approvalId,
            callId: item.callId ?? null,
            policy: item.policy,
            reason: item.reason,
            options: item.options,
            createdAt: new Date(item.createdAt),
          },
        ],
        skipDuplicates: true,
      });
    } else if (item.type === 'approval_decision') {
      const found = await tx.$queryRaw<{ created_at: Date; status: ApprovalStatus }[]>`
        SELECT created_at, status::text AS status FROM approvals
        WHERE session_id = ${sessionId}::uuid AND approval_id = ${item.approvalId} FOR UPDATE`;
      if (found[0]) decided.set(item.approvalId, { requestedAt: found[0].created_at, previous: found[0].status });
      await tx.approval.updateMany({
        where: { sessionId, approvalId: item.approvalId, status: 'pending' },
        data: {
          status: approvalStatusFor(item.decision),
          decidedBy: (item.actor ?? Prisma.DbNull) as Prisma.InputJsonValue,
          decidedAt: new Date(item.createdAt),
        },
      });
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Stores each metered call of the batch as a `metered_usage` fact (with the items, same transaction; the item's seq
 * makes a redelivered batch a no-op), and for each turn the batch ends, compares what the harness reported with what
 * was metered. The spend is the turn author's (a signed-in person), else the session owner's.
 */
async function recordMeteredUsage(
  tx: Prisma.TransactionClient,
  session: { id: string; orgId: string; ownerId: string; harness: string; agent: Prisma.JsonValue },
  fresh: ItemDraft[],
  mismatches: UsageMismatch[],
): Promise<void> {
  const agentName = (session.agent as { name?: unknown } | null)?.name;
  const agent = typeof agentName === 'string' ? agentName : '';
  const rows: Prisma.MeteredUsageCreateManyInput[] = [];
  for (const d of fresh) {
    if (d.type !== 'metered_usage') continue;
    const user = d.actor && d.actor.kind !== 'guest' && UUID.test(d.actor.id) ? d.actor.id : session.ownerId;
    rows.push({
      orgId: session.orgId,
      sessionId: session.id,
      itemSeq: d.seq,
      turnId: d.turnId ?? null,
      userId: user,
      agent,
      harness: session.harness,
      provider: d.provider,
      api: d.api,
      host: d.host,
      model: d.model,
      inputTokens: BigInt(d.inputTokens),
      outputTokens: BigInt(d.outputTokens),
      cacheReadTokens: BigInt(d.cacheReadTokens),
      cacheWriteTokens: BigInt(d.cacheWriteTokens),
      reasoningTokens: BigInt(d.reasoningTokens),
      costMicros: BigInt(d.costMicros),
      priceVersion: d.priceVersion,
      requestId: d.requestId ?? null,
      at: new Date(d.createdAt),
    });
  }
  if (rows.length) await tx.meteredUsage.createMany({ data: rows, skipDuplicates: true });
  for (const d of fresh) {
    if ((d.type !== 'turn_completed' && d.type !== 'turn_failed') || !d.turnId) continue;
    // Harnesses price their reports at list prices: the metered calls are compared at the same prices (an org's
    // own `price_table` changes what is charged, not what a truthful harness reports).
    const calls = await tx.$queryRaw<MeteredTokens[]>`
      SELECT model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
      FROM metered_usage WHERE session_id = ${session.id}::uuid AND turn_id = ${d.turnId}`;
    if (calls.length === 0) continue; // an unmetered turn (no sandbox): nothing to compare with
    const [r] = await tx.$queryRaw<{ cost: bigint }[]>`
      SELECT coalesce(sum(round((body->>'costUsd')::numeric * 1000000)), 0)::bigint AS cost
      FROM session_items WHERE session_id = ${session.id}::uuid AND turn_id = ${d.turnId} AND type = 'usage'`;
    const reportedMicros = Number(r.cost);
    const meteredMicros = calls.reduce((sum, c) => sum + listCost(c), 0);
    if (usageMismatch(reportedMicros, meteredMicros)) {
      mismatches.push({ turnId: d.turnId, reportedMicros, meteredMicros, calls: calls.length });
    }
  }
}

type MeteredTokens = {
  model: string;
  input_tokens: bigint;
  output_tokens: bigint;
  cache_read_tokens: bigint;
  cache_write_tokens: bigint;
};

function listCost(c: MeteredTokens): number {
  return priceCall(c.model, {
    inputTokens: Number(c.input_tokens),
    outputTokens: Number(c.output_tokens),
    cacheReadTokens: Number(c.cache_read_tokens),
    cacheWriteTokens: Number(c.cache_write_tokens),
  }).costMicros;
}

/** The session row as `appendItems` reads it under its lock. */
type LockedSession = {
  id: string;
  orgId: string;
  ownerId: string;
  harness: string;
  agent: Prisma.JsonValue;
  status: SessionStatus;
  statusReason: string | null;
  lastSeq: number;
  costUsd: Prisma.Decimal;
  inputTokens: bigint;
  outputTokens: bigint;
};

/**
 * A batch's items in one statement with one parameter: the rows go to Postgres as one JSON array, split there by
 * `jsonb_to_recordset` (each item's content is its `body`; no actor or turn is NULL; times at the column's
 * millisecond precision, as before).
 */
async function insertItems(tx: Prisma.TransactionClient, orgId: string, sessionId: string, items: ItemDraft[]) {
  const rows = items.map(({ seq, turnId, actor, createdAt, ...body }) => ({
    seq,
    type: body.type,
    turn_id: turnId ?? null,
    actor: actor ?? null,
    body,
    created_at: new Date(createdAt).toISOString(),
  }));
  await tx.$executeRaw`
    INSERT INTO session_items (session_id, seq, org_id, type, turn_id, actor, body, created_at)
    SELECT ${sessionId}::uuid, r.seq, ${orgId}::uuid, r.type, r.turn_id, NULLIF(r.actor, 'null'::jsonb), r.body,
           r.created_at
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(seq int, type text, turn_id text, actor jsonb, body jsonb, created_at timestamptz)`;
}
