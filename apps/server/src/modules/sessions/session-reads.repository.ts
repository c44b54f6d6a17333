import { Injectable } from '@nestjs/common';
import type { SessionRole } from '@yoke/protocol';
import type { UserGrant } from '../access/session-access.service';
import { Prisma, type SessionStatus } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';
import type { SessionRow } from './sessions.repository';
import { toItem } from './session.mapper';

/** A session (with its runner) and the caller's live grant in it, read together. */
export type ViewableSession = { session: SessionRow; grant: UserGrant | null };

/** As read: `numeric` and `int8` columns come as text (the same through `pg` and through Prisma), made types after. */
type SessionSqlRow = Omit<SessionRow, 'runner' | 'costUsd' | 'inputTokens' | 'outputTokens'> & {
  costUsd: string;
  inputTokens: string;
  outputTokens: string;
  runnerOnline: boolean | null;
  runnerLastSeenAt: Date | null;
  runnerName: string | null;
  runnerRevokedAt: Date | null;
};

/** The columns of `SessionRow` (a session with its runner's presence), under their Prisma names. */
const SESSION_WITH_RUNNER = Prisma.sql`s.id, s.org_id AS "orgId", s.owner_id AS "ownerId", s.runner_id AS "runnerId",
  s.parent_id AS "parentId", s.forked_from_id AS "forkedFromId", s.forked_from_seq AS "forkedFromSeq", s.title, s.agent,
  s.harness, s.model, s.workspace, s.policies, s.status::text AS status, s.status_reason AS "statusReason",
  s.last_seq AS "lastSeq", s.cost_usd::text AS "costUsd", s.input_tokens::text AS "inputTokens",
  s.output_tokens::text AS "outputTokens",
  s.idempotency_key AS "idempotencyKey", s.created_at AS "createdAt", s.updated_at AS "updatedAt",
  r.online AS "runnerOnline", r.last_seen_at AS "runnerLastSeenAt", r.name AS "runnerName",
  r.revoked_at AS "runnerRevokedAt"`;

/**
 * A stored item (`session_items i`) as the JSON text of the object `toItem` makes: `seq`, `sessionId`, `turnId` and
 * `actor` when set (a JSON null, false, 0 or empty actor counts as unset, as there), `createdAt` in ISO form with
 * milliseconds and `Z` (the column keeps milliseconds), and its body's fields. Written as text around the body's own
 * (a JSON object), which costs little more than reading the body: building it as `jsonb` tripled the page's time in
 * Postgres. A body that has a field of those names (none written today) takes the slower exact path, the body first,
 * so that the envelope's field wins as in `toItem`'s spread. Items past retention are read as they are stored (the
 * erasure replaced their body), like every other item.
 */
const ENVELOPE = Prisma.sql`'{"seq": ' || i.seq || ', "sessionId": "' || i.session_id || '"'
  || CASE WHEN i.turn_id IS NULL OR i.turn_id = '' THEN '' ELSE ', "turnId": ' || to_json(i.turn_id)::text END
  || CASE WHEN i.actor IS NULL OR i.actor IN ('null', 'false', '0', '""') THEN ''
          ELSE ', "actor": ' || i.actor::text END
  || ', "createdAt": "' || to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'`;
const ITEM_JSON = Prisma.sql`CASE
  WHEN i.body = '{}'::jsonb THEN ${ENVELOPE} || '}'
  WHEN i.body ?| array['seq', 'sessionId', 'turnId', 'actor', 'createdAt']
    THEN left(i.body::text, -1) || ', ' || substr(${ENVELOPE}, 2) || '}'
  ELSE ${ENVELOPE} || ', ' || substr(i.body::text, 2)
END`;

/** `userId`'s live grant in the session `s` (the most recent), as `g`: one row or none. */
const liveGrant = (userId: string) => Prisma.sql`
  LEFT JOIN LATERAL (
    SELECT id, role, can_approve, link_id FROM session_grants
    WHERE org_id = s.org_id AND session_id = s.id AND user_id = ${userId}::uuid AND revoked_at IS NULL
    ORDER BY created_at DESC LIMIT 1
  ) g ON true`;
const GRANT_COLUMNS = Prisma.sql`g.id AS "grantId", g.role::text AS "grantRole", g.can_approve AS "grantCanApprove",
  g.link_id AS "grantLinkId"`;

/** Items per row of a large page's statement: one value of megabytes is far slower to receive than rows of this size. */
const CHUNK_ITEMS = 500;

/**
 * Pages of at most this many items are read as rows and written as JSON here (as the floor of a request would): up to
 * a few hundred items that is cheaper than Postgres writing them (bench:journeys: a 20-item page 6.4 -> 3.7 ms, a
 * 200-item one 7.5 -> 6.9 ms); the late joiner's pages of thousands are Postgres' (see ITEM_JSON).
 */
export const SMALL_PAGE_ITEMS = 500;

/**
 * A page of items stops before this many bytes of JSON (always one item at least), whatever its `limit`: a page of
 * thousands of large tool results must not become one string of gigabytes in the server and the client.
 */
export const ITEMS_PAGE_BYTES = 8 * 1024 * 1024;

/**
 * The hot reads of the session pages, each in one statement (Prisma's `include` would add one per relation), read
 * through `pg` (`Transactions.rows`): a page of sessions with their runners, one session with its runner and the
 * caller's grant for the access check, and a page of items. Every method takes the org and filters by it.
 */
@Injectable()
export class SessionReadsRepository {
  constructor(private readonly db: Transactions) {}

  /** A session of the org with its runner, and `userId`'s live grant in it (the most recent); null if none. */
  async findViewable(orgId: string, id: string, userId: string): Promise<ViewableSession | null> {
    const [row] = await this.db.rows<SessionSqlRow & GrantSqlColumns>(Prisma.sql`
      SELECT ${SESSION_WITH_RUNNER}, ${GRANT_COLUMNS}
      FROM sessions s
      LEFT JOIN runners r ON r.id = s.runner_id
      ${liveGrant(userId)}
      WHERE s.org_id = ${orgId}::uuid AND s.id = ${id}::uuid`);
    if (!row) return null;
    return { session: toSessionRow(row), grant: toGrant(row) };
  }

  /**
   * A page of a session's items after `afterSeq` (at most `limit`), with what the access check and the page need of
   * the session (owner, last seq, `userId`'s live grant), in one statement; null when the org has no such session.
   * Past SMALL_PAGE_ITEMS, Postgres writes the page as the JSON clients receive (`ITEM_JSON`, each item as `toItem`
   * makes it), in rows of CHUNK_ITEMS items read through `pg` (`Transactions.rows`): a late joiner's thousands of items
   * are neither converted row by row nor re-serialized on their way out. The caller answers with the page only once
   * the check has passed. The page ends early, at the end of a chunk, rather than pass ITEMS_PAGE_BYTES (one item at
   * least).
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
    /** The page's items as JSON, in seq order: `chunks.join(',')` between brackets is the array. */
    chunks: string[];
    /** The UTF-8 length of `chunks.join(',')`. */
    bytes: number;
    hasMore: boolean;
  } | null> {
    if (limit <= SMALL_PAGE_ITEMS) return this.findSmallItemsPage(orgId, id, userId, afterSeq, limit);
    // The items after `afterSeq` up to `afterSeq + limit`, in chunks of CHUNK_ITEMS consecutive seqs (a log has no
    // gaps; were there one, a chunk would only be shorter): no window over the page's JSON.
    // The bounds are bigint: `afterSeq + limit` passes int's range when `afterSeq` is near MAX_SEQ.
    const rows = await this.db.rows<ChunkSqlRow & GrantSqlColumns>(Prisma.sql`
      SELECT s.id, s.owner_id AS "ownerId", s.last_seq AS "lastSeq", ${GRANT_COLUMNS}, p.items AS "itemsJson",
             EXISTS (SELECT 1 FROM session_items b WHERE b.session_id = s.id AND b.seq > ${afterSeq + limit}::bigint)
               AS "beyond"
      FROM sessions s
      ${liveGrant(userId)}
      LEFT JOIN LATERAL (
        SELECT (i.seq - ${afterSeq + 1}::bigint) / ${CHUNK_ITEMS}::int AS chunk,
               string_agg(${ITEM_JSON}, ',' ORDER BY i.seq) AS items
        FROM session_items i
        WHERE i.org_id = s.org_id AND i.session_id = s.id AND i.seq > ${afterSeq}::int
          AND i.seq <= ${afterSeq + limit}::bigint
        GROUP BY 1
      ) p ON true
      WHERE s.org_id = ${orgId}::uuid AND s.id = ${id}::uuid
      ORDER BY p.chunk`);
    const [first] = rows;
    if (!first) return null;
    // Whole chunks while the page stays within ITEMS_PAGE_BYTES (with its commas and brackets).
    const chunks: string[] = [];
    let bytes = 0;
    let cut = false;
    for (const r of rows) {
      if (r.itemsJson === null) continue;
      // Measured here, as the response will be written (UTF-8), whatever the database's own encoding.
      const next = bytes + (chunks.length > 0 ? 1 : 0) + Buffer.byteLength(r.itemsJson);
      if (next + 2 > ITEMS_PAGE_BYTES) {
        cut = true;
        break;
      }
      chunks.push(r.itemsJson);
      bytes = next;
    }
    // A first chunk over the bound alone (items of megabytes): item by item, so the page still holds one at least.
    if (cut && chunks.length === 0) return this.findSmallItemsPage(orgId, id, userId, afterSeq, CHUNK_ITEMS);
    return {
      session: { id: first.id, ownerId: first.ownerId, lastSeq: first.lastSeq },
      grant: toGrant(first),
      chunks,
      bytes,
      hasMore: cut || first.beyond,
    };
  }

  /** `findItemsPage` for a page of up to SMALL_PAGE_ITEMS: the session's columns on every row, the items as rows. */
  private async findSmallItemsPage(orgId: string, id: string, userId: string, afterSeq: number, limit: number) {
    const rows = await this.db.rows<SmallPageSqlRow>(Prisma.sql`
      SELECT s.id, s.owner_id AS "ownerId", s.last_seq AS "lastSeq", ${GRANT_COLUMNS}, i.seq, i.type,
             i.turn_id AS "turnId", i.actor, i.body, i.created_at AS "createdAt", i.erased_at AS "erasedAt"
      FROM sessions s
      ${liveGrant(userId)}
      LEFT JOIN LATERAL (
        SELECT seq, type, turn_id, actor, body, created_at, erased_at FROM session_items
        WHERE org_id = s.org_id AND session_id = s.id AND seq > ${afterSeq}::int
        ORDER BY seq LIMIT ${limit + 1}::int
      ) i ON true
      WHERE s.org_id = ${orgId}::uuid AND s.id = ${id}::uuid
      ORDER BY i.seq`);
    const [first] = rows;
    if (!first) return null;
    const items: string[] = [];
    let bytes = 0;
    let hasMore = false;
    for (const r of rows) {
      if (r.seq === null || r.type === null || r.createdAt === null) continue; // no items after afterSeq
      const { seq, type, turnId, actor, body, createdAt, erasedAt } = r;
      const json =
        items.length < limit
          ? JSON.stringify(toItem({ sessionId: id, orgId, seq, type, turnId, actor, body, createdAt, erasedAt }))
          : '';
      const next = bytes + (items.length > 0 ? 1 : 0) + Buffer.byteLength(json);
      if (items.length >= limit || (items.length > 0 && next + 2 > ITEMS_PAGE_BYTES)) {
        hasMore = true;
        break;
      }
      items.push(json);
      bytes = next;
    }
    return {
      session: { id: first.id, ownerId: first.ownerId, lastSeq: first.lastSeq },
      grant: toGrant(first),
      chunks: items,
      bytes,
      hasMore,
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
      /** Only sessions whose title, agent name, harness, model or id contains this text, case-insensitively. */
      search?: string;
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
    if (opts.search) {
      // Read among the org's rows that the other conditions leave (its `(org_id, updated_at)` index, newest first):
      // a page of matches stops the scan.
      const pattern = `%${opts.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(
        Prisma.sql`(s.title ILIKE ${pattern} OR s.agent->>'name' ILIKE ${pattern} OR s.harness ILIKE ${pattern} OR s.model ILIKE ${pattern} OR s.id::text ILIKE ${pattern})`,
      );
    }
    if (opts.cursor) {
      where.push(Prisma.sql`(s.updated_at, s.id) < (${opts.cursor.updatedAt}::timestamptz, ${opts.cursor.id}::uuid)`);
    }
    const rows = await this.db.rows<SessionSqlRow>(Prisma.sql`
      SELECT ${SESSION_WITH_RUNNER}
      FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
      WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY s.updated_at DESC, s.id DESC
      LIMIT ${opts.limit + 1}::int`);
    return rows.map(toSessionRow);
  }
}

type GrantSqlColumns = {
  grantId: string | null;
  grantRole: SessionRole | null;
  grantCanApprove: boolean | null;
  grantLinkId: string | null;
};

/** A row of a small `findItemsPage`: the session's columns, and an item of the page (nulls when there is none). */
type SmallPageSqlRow = GrantSqlColumns & {
  id: string;
  ownerId: string;
  lastSeq: number;
  seq: number | null;
  type: string | null;
  turnId: string | null;
  actor: Prisma.JsonValue | null;
  body: Prisma.JsonValue;
  createdAt: Date | null;
  erasedAt: Date | null;
};

/**
 * A row of a large `findItemsPage`: the session's columns, a chunk of its page (null when the page is empty), and
 * whether items follow the page's seq range.
 */
type ChunkSqlRow = {
  id: string;
  ownerId: string;
  lastSeq: number;
  itemsJson: string | null;
  beyond: boolean;
};

function toGrant(g: GrantSqlColumns): UserGrant | null {
  return g.grantId && g.grantRole
    ? { id: g.grantId, role: g.grantRole, canApprove: g.grantCanApprove === true, linkId: g.grantLinkId }
    : null;
}

/**
 * Field by field: an object rest (`{ a, ...rest } = row`) copies the rest through V8's slow path, ~10 µs a row, half a
 * millisecond on a page of sessions (bench:journeys, list). The int spec compares the result with Prisma's row.
 */
function toSessionRow(row: SessionSqlRow): SessionRow {
  return {
    id: row.id,
    orgId: row.orgId,
    ownerId: row.ownerId,
    runnerId: row.runnerId,
    parentId: row.parentId,
    forkedFromId: row.forkedFromId,
    forkedFromSeq: row.forkedFromSeq,
    title: row.title,
    agent: row.agent,
    harness: row.harness,
    model: row.model,
    workspace: row.workspace,
    policies: row.policies,
    status: row.status,
    statusReason: row.statusReason,
    lastSeq: row.lastSeq,
    costUsd: new Prisma.Decimal(row.costUsd),
    inputTokens: BigInt(row.inputTokens),
    outputTokens: BigInt(row.outputTokens),
    idempotencyKey: row.idempotencyKey,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    runner:
      row.runnerName === null
        ? null
        : {
            online: row.runnerOnline === true,
            lastSeenAt: row.runnerLastSeenAt,
            name: row.runnerName,
            revokedAt: row.runnerRevokedAt,
          },
  };
}
