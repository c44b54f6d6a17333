import { Injectable } from '@nestjs/common';
import type { SessionRole } from '@yoke/protocol';
import type { UserGrant } from '../access/session-access.service';
import { Prisma, type SessionStatus } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';
import type { ItemRow, SessionRow } from './sessions.repository';

/** A session (with its runner) and the caller's live grant in it, read together. */
export type ViewableSession = { session: SessionRow; grant: UserGrant | null };

type SessionSqlRow = Omit<SessionRow, 'runner'> & {
  runnerOnline: boolean | null;
  runnerLastSeenAt: Date | null;
  runnerName: string | null;
  runnerRevokedAt: Date | null;
};

/** The columns of `SessionRow` (a session with its runner's presence), under their Prisma names. */
const SESSION_WITH_RUNNER = Prisma.sql`s.id, s.org_id AS "orgId", s.owner_id AS "ownerId", s.runner_id AS "runnerId",
  s.parent_id AS "parentId", s.forked_from_id AS "forkedFromId", s.forked_from_seq AS "forkedFromSeq", s.title, s.agent,
  s.harness, s.model, s.workspace, s.policies, s.status::text AS status, s.status_reason AS "statusReason",
  s.last_seq AS "lastSeq", s.cost_usd AS "costUsd", s.input_tokens AS "inputTokens", s.output_tokens AS "outputTokens",
  s.idempotency_key AS "idempotencyKey", s.created_at AS "createdAt", s.updated_at AS "updatedAt",
  r.online AS "runnerOnline", r.last_seen_at AS "runnerLastSeenAt", r.name AS "runnerName",
  r.revoked_at AS "runnerRevokedAt"`;

/**
 * The hot reads of the session pages, each in one statement (Prisma's `include` would add one per relation): a page
 * of sessions with their runners, and one session with its runner and the caller's grant for the access check. Every
 * method takes the org and filters by it.
 */
@Injectable()
export class SessionReadsRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  /** A session of the org with its runner, and `userId`'s live grant in it (the most recent); null if none. */
  async findViewable(orgId: string, id: string, userId: string): Promise<ViewableSession | null> {
    const [row] = await this.prisma.$queryRaw<(SessionSqlRow & GrantSqlColumns)[]>`
      SELECT ${SESSION_WITH_RUNNER}, g.id AS "grantId", g.role::text AS "grantRole", g.can_approve AS "grantCanApprove",
             g.link_id AS "grantLinkId"
      FROM sessions s
      LEFT JOIN runners r ON r.id = s.runner_id
      LEFT JOIN LATERAL (
        SELECT id, role, can_approve, link_id FROM session_grants
        WHERE org_id = s.org_id AND session_id = s.id AND user_id = ${userId}::uuid AND revoked_at IS NULL
        ORDER BY created_at DESC LIMIT 1
      ) g ON true
      WHERE s.org_id = ${orgId}::uuid AND s.id = ${id}::uuid`;
    if (!row) return null;
    const { grantId, grantRole, grantCanApprove, grantLinkId, ...session } = row;
    return { session: toSessionRow(session), grant: toGrant({ grantId, grantRole, grantCanApprove, grantLinkId }) };
  }

  /**
   * A page of a session's items after `afterSeq` (one more than `limit` when more follow), with what the access check
   * and the page need of the session (owner, last seq, `userId`'s live grant), in one statement; null when the org has
   * no such session.
   */
  async findItemsPage(
    orgId: string,
    id: string,
    userId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{
    session: { id: string; ownerId: string; lastSeq: number };
    grant: UserGrant | null;
    items: ItemRow[];
  } | null> {
    const rows = await this.prisma.$queryRaw<(PageSqlRow & GrantSqlColumns)[]>`
      SELECT a.id, a.owner_id AS "ownerId", a.last_seq AS "lastSeq", a.grant_id AS "grantId",
             a.grant_role AS "grantRole", a.grant_can_approve AS "grantCanApprove", a.grant_link_id AS "grantLinkId",
             i.seq, i.org_id AS "itemOrgId", i.type, i.turn_id AS "turnId", i.actor, i.body, i.created_at AS "createdAt",
             i.erased_at AS "erasedAt"
      FROM (
        SELECT s.id, s.owner_id, s.last_seq, g.id AS grant_id, g.role::text AS grant_role,
               g.can_approve AS grant_can_approve, g.link_id AS grant_link_id
        FROM sessions s
        LEFT JOIN LATERAL (
          SELECT id, role, can_approve, link_id FROM session_grants
          WHERE org_id = s.org_id AND session_id = s.id AND user_id = ${userId}::uuid AND revoked_at IS NULL
          ORDER BY created_at DESC LIMIT 1
        ) g ON true
        WHERE s.org_id = ${orgId}::uuid AND s.id = ${id}::uuid
      ) a
      LEFT JOIN LATERAL (
        SELECT * FROM session_items
        WHERE org_id = ${orgId}::uuid AND session_id = a.id AND seq > ${afterSeq}::int
        ORDER BY seq LIMIT ${limit + 1}::int
      ) i ON true
      ORDER BY i.seq`;
    const [first] = rows;
    if (!first) return null;
    const items: ItemRow[] = [];
    for (const r of rows) {
      if (r.seq === null || r.itemOrgId === null) continue; // the session has no items after afterSeq
      items.push({
        sessionId: r.id,
        seq: r.seq,
        orgId: r.itemOrgId,
        type: r.type as string,
        turnId: r.turnId,
        actor: r.actor,
        body: r.body as Prisma.JsonValue,
        createdAt: r.createdAt as Date,
        erasedAt: r.erasedAt,
      });
    }
    return {
      session: { id: first.id, ownerId: first.ownerId, lastSeq: first.lastSeq },
      grant: toGrant(first),
      items,
    };
  }

  /** A page of the org's sessions, newest change first, with one more row than `limit` when more follow. */
  async list(
    orgId: string,
    opts: {
      status?: SessionStatus;
      includeArchived: boolean;
      limit: number;
      cursor?: { updatedAt: Date; id: string };
      /** Only these (a member's own and shared sessions); all of the org when absent. */
      visibleTo?: { ownerId: string; grantedIds: string[] } | null;
      /** Only the children of this session. */
      parentId?: string;
    },
  ): Promise<SessionRow[]> {
    const where = [Prisma.sql`s.org_id = ${orgId}::uuid`];
    if (opts.parentId) where.push(Prisma.sql`s.parent_id = ${opts.parentId}::uuid`);
    if (opts.visibleTo) {
      where.push(
        Prisma.sql`(s.owner_id = ${opts.visibleTo.ownerId}::uuid OR s.id = ANY(${opts.visibleTo.grantedIds}::uuid[]))`,
      );
    }
    if (opts.status) where.push(Prisma.sql`s.status = ${opts.status}::session_status`);
    else if (!opts.includeArchived) where.push(Prisma.sql`s.status <> 'archived'`);
    if (opts.cursor) {
      where.push(Prisma.sql`(s.updated_at, s.id) < (${opts.cursor.updatedAt}::timestamptz, ${opts.cursor.id}::uuid)`);
    }
    const rows = await this.prisma.$queryRaw<SessionSqlRow[]>`
      SELECT ${SESSION_WITH_RUNNER}
      FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
      WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY s.updated_at DESC, s.id DESC
      LIMIT ${opts.limit + 1}`;
    return rows.map(toSessionRow);
  }
}

type GrantSqlColumns = {
  grantId: string | null;
  grantRole: SessionRole | null;
  grantCanApprove: boolean | null;
  grantLinkId: string | null;
};

/** A row of `findItemsPage`: the session's columns, then one item's (all null when the page is empty). */
type PageSqlRow = {
  id: string;
  ownerId: string;
  lastSeq: number;
  seq: number | null;
  itemOrgId: string | null;
  type: string | null;
  turnId: string | null;
  actor: Prisma.JsonValue | null;
  body: Prisma.JsonValue | null;
  createdAt: Date | null;
  erasedAt: Date | null;
};

function toGrant(g: GrantSqlColumns): UserGrant | null {
  return g.grantId && g.grantRole
    ? { id: g.grantId, role: g.grantRole, canApprove: g.grantCanApprove === true, linkId: g.grantLinkId }
    : null;
}

function toSessionRow(row: SessionSqlRow): SessionRow {
  const { runnerOnline, runnerLastSeenAt, runnerName, runnerRevokedAt, ...session } = row;
  return {
    ...session,
    runner:
      runnerName === null
        ? null
        : { online: runnerOnline === true, lastSeenAt: runnerLastSeenAt, name: runnerName, revokedAt: runnerRevokedAt },
  };
}
