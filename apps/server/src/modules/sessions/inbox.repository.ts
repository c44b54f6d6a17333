import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { InboxInput } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type InboxRow = Prisma.InboxEntryGetPayload<object>;

/** An inbox row's columns under the names `InboxRow` gives them. */
const ROW = Prisma.sql`id, org_id AS "orgId", session_id AS "sessionId", kind, input, idempotency_key AS "idempotencyKey",
  position, delivered_at AS "deliveredAt", created_at AS "createdAt", erased_at AS "erasedAt", claimed_at AS "claimedAt"`;

/**
 * A session's inbox: the inputs (prompts, messages, cancels, decisions) waiting for its runner, each handed over at
 * most once. A hand-over claims an entry first, so a withdrawal and a delivery never both happen.
 */
@Injectable()
export class InboxRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  /**
   * Adds an input once per key within its session: a repeated key returns the entry the first call made. One statement
   * when the key is new (the upsert it replaces was five round trips: a transaction, a read, the insert, a re-read).
   */
  async add(orgId: string, sessionId: string, input: InboxInput, key: string): Promise<InboxRow> {
    const [added] = await this.prisma.$queryRaw<InboxRow[]>`
      INSERT INTO inbox_entries (id, org_id, session_id, kind, input, idempotency_key)
      VALUES (${randomUUID()}::uuid, ${orgId}::uuid, ${sessionId}::uuid, ${input.kind}, ${JSON.stringify(input)}::jsonb,
              ${key})
      ON CONFLICT (session_id, idempotency_key) DO NOTHING
      RETURNING ${ROW}`;
    if (added) return added;
    const [existing] = await this.prisma.$queryRaw<InboxRow[]>`
      SELECT ${ROW} FROM inbox_entries WHERE session_id = ${sessionId}::uuid AND idempotency_key = ${key}`;
    if (!existing) throw new Error(`inbox entry ${key} of session ${sessionId} neither added nor found`);
    return existing;
  }

  /** Inputs not yet acknowledged by the runner, for every session it holds, in the order they were sent. */
  pendingForRunner(runnerId: string) {
    return this.prisma.inboxEntry.findMany({
      where: { deliveredAt: null, session: { runnerId } },
      orderBy: [{ sessionId: 'asc' }, { position: 'asc' }],
    });
  }

  /**
   * Claims a pending entry for one hand-over to its runner. False when it is gone (withdrawn), delivered, or another
   * hand-over holds a live claim: the caller then sends nothing.
   */
  async claimDelivery(id: string): Promise<boolean> {
    const claimed = await this.prisma.$executeRaw`
      UPDATE inbox_entries SET claimed_at = now()
      WHERE id = ${id}::uuid AND delivered_at IS NULL
        AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => ${CLAIM_LEASE_SECONDS}))`;
    return claimed === 1;
  }

  /** The runner acked a claimed entry: delivered. False when the entry was already marked (nothing changes). */
  async markDelivered(id: string): Promise<boolean> {
    const marked = await this.prisma.$executeRaw`
      UPDATE inbox_entries SET delivered_at = now(), claimed_at = NULL WHERE id = ${id}::uuid AND delivered_at IS NULL`;
    return marked === 1;
  }

  /** The runner did not take a claimed entry: pending again, for the next hand-over or a withdrawal. */
  async releaseDelivery(id: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE inbox_entries SET claimed_at = NULL WHERE id = ${id}::uuid AND delivered_at IS NULL`;
  }

  /** Whether the runner acked an entry (after a claim failed: delivered, or withdrawn / still being handed over). */
  async isDelivered(id: string): Promise<boolean> {
    const row = await this.prisma.inboxEntry.findUnique({ where: { id }, select: { deliveredAt: true } });
    return !!row?.deliveredAt;
  }

  /** A session's messages not yet handed to its runner, oldest first. */
  queuedMessages(orgId: string, sessionId: string) {
    return this.prisma.inboxEntry.findMany({
      where: { orgId, sessionId, kind: 'message', deliveredAt: null },
      orderBy: { position: 'asc' },
    });
  }

  /**
   * Withdraws one undelivered message in one statement: nothing is deleted once the runner has it or while a
   * hand-over holds a live claim. True when it was deleted.
   */
  async withdrawMessage(orgId: string, sessionId: string, id: string): Promise<boolean> {
    const deleted = await this.prisma.$executeRaw`
      DELETE FROM inbox_entries
      WHERE id = ${id}::uuid AND session_id = ${sessionId}::uuid AND org_id = ${orgId}::uuid AND kind = 'message'
        AND delivered_at IS NULL
        AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => ${CLAIM_LEASE_SECONDS}))`;
    return deleted === 1;
  }

  /** A session's message by id (any state), for telling a refused withdrawal apart: null when there is none. */
  findMessage(orgId: string, sessionId: string, id: string) {
    return this.prisma.inboxEntry.findFirst({ where: { id, orgId, sessionId, kind: 'message' } });
  }
}

/**
 * How long a hand-over's claim holds: past the runner's ack timeout (10 s), so only a replica that died mid-send
 * leaves a claim to expire.
 */
const CLAIM_LEASE_SECONDS = 30;
