import { Injectable } from '@nestjs/common';
import { ERASABLE_ITEM_TYPES, type LegalHoldScope } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

export type LegalHoldRow = Prisma.LegalHoldGetPayload<object>;
export type OrgRetentionRow = Prisma.OrgRetentionGetPayload<object>;

/** The active holds of an org, split by scope (ids as text, as Postgres compares them in `= ANY`). */
export type ActiveHolds = { rows: LegalHoldRow[]; org: boolean; users: string[]; sessions: string[] };

/** An item due for erasure, as stored. */
export type DueItem = { sessionId: string; seq: number; body: unknown };

/** Where a page of sessions ends, in (last activity, id) order. */
export type SessionCursor = { updatedAt: Date; id: string };

const ERASABLE = [...ERASABLE_ITEM_TYPES] as string[];

@Injectable()
export class RetentionRepository {
  constructor(private readonly db: Transactions) {}

  private get prisma() {
    return this.db.client;
  }

  /** Serializes a sweep round and a hold placed on the org (transaction-scoped advisory lock). */
  async lockOrg(orgId: string): Promise<void> {
    await this.prisma.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('retention:' || ${orgId}))`;
  }

  findSettings(orgId: string) {
    return this.prisma.orgRetention.findUnique({ where: { orgId } });
  }

  upsertSettings(
    orgId: string,
    data: { sessionContentDays: number | null; auditContentDays: number | null },
    by: string,
  ) {
    const row = { ...data, updatedBy: by, updatedAt: new Date() };
    return this.prisma.orgRetention.upsert({ where: { orgId }, update: row, create: { orgId, ...row } });
  }

  /** Orgs with a retention that erases something (the nightly sweep's list). */
  orgsWithRetention() {
    return this.prisma.orgRetention.findMany({
      where: { OR: [{ sessionContentDays: { not: null } }, { auditContentDays: { not: null } }] },
      select: { orgId: true },
    });
  }

  listHolds(orgId: string, includeReleased: boolean) {
    return this.prisma.legalHold.findMany({
      where: { orgId, ...(includeReleased ? {} : { releasedAt: null }) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }

  findHold(orgId: string, id: string) {
    return this.prisma.legalHold.findFirst({ where: { orgId, id } });
  }

  createHold(data: { orgId: string; scope: LegalHoldScope; targetId: string; reason: string; createdBy: string }) {
    return this.prisma.legalHold.create({ data });
  }

  releaseHold(orgId: string, id: string, by: string) {
    return this.prisma.legalHold.update({ where: { id, orgId }, data: { releasedAt: new Date(), releasedBy: by } });
  }

  async activeHolds(orgId: string): Promise<ActiveHolds> {
    const rows = await this.listHolds(orgId, false);
    const of = (scope: LegalHoldScope) => rows.filter((h) => h.scope === scope).map((h) => h.targetId);
    return { rows, org: rows.some((h) => h.scope === 'org'), users: of('user'), sessions: of('session') };
  }

  /** Labels of hold targets: the org's name, members' emails, sessions' titles (of this org only). */
  async labels(orgId: string, holds: { scope: string; targetId: string }[]) {
    const ids = (scope: string) => holds.filter((h) => h.scope === scope).map((h) => h.targetId);
    const [org, users, sessions] = await Promise.all([
      this.prisma.org.findUnique({ where: { id: orgId }, select: { id: true, name: true } }),
      this.prisma.user.findMany({
        where: { id: { in: ids('user') }, memberships: { some: { orgId } } },
        select: { id: true, email: true },
      }),
      this.prisma.session.findMany({ where: { orgId, id: { in: ids('session') } }, select: { id: true, title: true } }),
    ]);
    return new Map<string, string>([
      ...(org ? [[org.id, org.name] as [string, string]] : []),
      ...users.map((u) => [u.id, u.email] as [string, string]),
      ...sessions.map((s) => [s.id, s.title] as [string, string]),
    ]);
  }

  isMember(orgId: string, userId: string) {
    return this.prisma.membership.findFirst({ where: { orgId, userId }, select: { userId: true } }).then(Boolean);
  }

  hasSession(orgId: string, sessionId: string) {
    return this.prisma.session.findFirst({ where: { orgId, id: sessionId }, select: { id: true } }).then(Boolean);
  }

  // ---- what is due -------------------------------------------------------------------------------------------

  /** Unerased content items of sessions idle since before `cutoff`, not held, by type (the dry-run's counts). */
  async dueItemCounts(orgId: string, cutoff: Date, holds: ActiveHolds) {
    if (holds.org) return [];
    return this.prisma.$queryRaw<{ type: string; n: bigint }[]>`
      SELECT i.type, count(*) AS n FROM sessions s JOIN session_items i ON i.session_id = s.id
      WHERE ${dueSession(orgId, cutoff, holds)} AND ${unerased}
      GROUP BY i.type`;
  }

  /** Sessions with content due (not held), with how many items, oldest activity first. */
  dueSessions(orgId: string, cutoff: Date, holds: ActiveHolds, limit: number) {
    if (holds.org) return Promise.resolve([]);
    return this.prisma.$queryRaw<
      { id: string; title: string; owner_id: string; updated_at: Date; items: bigint; total: bigint }[]
    >`
      SELECT s.id, s.title, s.owner_id, s.updated_at, count(*) AS items, count(*) OVER () AS total
      FROM sessions s JOIN session_items i ON i.session_id = s.id
      WHERE ${dueSession(orgId, cutoff, holds)} AND ${unerased}
      GROUP BY s.id ORDER BY s.updated_at, s.id LIMIT ${limit}`;
  }

  /** Sessions old enough to be due that a hold keeps (with content still there). */
  heldSessions(orgId: string, cutoff: Date, holds: ActiveHolds, limit: number) {
    if (holds.rows.length === 0) return Promise.resolve([]);
    return this.prisma.$queryRaw<{ id: string; title: string; owner_id: string }[]>`
      SELECT s.id, s.title, s.owner_id FROM sessions s
      WHERE s.org_id = ${orgId}::uuid AND s.updated_at < ${cutoff} AND ${heldSession(holds)}
        AND EXISTS (SELECT 1 FROM session_items i WHERE i.session_id = s.id AND ${unerased})
      ORDER BY s.updated_at, s.id LIMIT ${limit}`;
  }

  async dueInboxCount(orgId: string, cutoff: Date, holds: ActiveHolds): Promise<number> {
    if (holds.org) return 0;
    const rows = await this.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM sessions s JOIN inbox_entries e ON e.session_id = s.id
      WHERE ${dueSession(orgId, cutoff, holds)} AND ${unerasedInbox}`;
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * A page of sessions of the org idle since before `cutoff` and under no hold, after `after` in (last activity, id)
   * order: what the sweep walks, a page at a time, outside any transaction.
   */
  dueSessionPage(orgId: string, cutoff: Date, holds: ActiveHolds, after: SessionCursor | null, limit: number) {
    if (holds.org) return Promise.resolve([]);
    const page = after ? Prisma.sql`AND (s.updated_at, s.id) > (${after.updatedAt}, ${after.id}::uuid)` : Prisma.empty;
    return this.prisma.$queryRaw<{ id: string; updated_at: Date }[]>`
      SELECT s.id, s.updated_at FROM sessions s
      WHERE ${dueSession(orgId, cutoff, holds)} ${page}
      ORDER BY s.updated_at, s.id LIMIT ${limit}`;
  }

  /** The next `limit` items of these sessions whose content is not erased yet (session, seq order). */
  unerasedItems(orgId: string, sessionIds: string[], limit: number): Promise<DueItem[]> {
    return this.prisma.$queryRaw<DueItem[]>`
      SELECT i.session_id AS "sessionId", i.seq, i.body FROM session_items i
      WHERE i.org_id = ${orgId}::uuid AND i.session_id = ANY(${sessionIds}::uuid[]) AND ${unerased}
      ORDER BY i.session_id, i.seq LIMIT ${limit}`;
  }

  /**
   * Replaces the items' bodies where they are still due: not erased meanwhile, their session still idle since before
   * `cutoff` (an item appended meanwhile made it active again) and under none of `holds` (read under the org's
   * retention lock). Returns the session and type of each item erased.
   */
  eraseItems(orgId: string, cutoff: Date, holds: ActiveHolds, rows: DueItem[], at: Date) {
    if (rows.length === 0 || holds.org) return Promise.resolve([]);
    const json = JSON.stringify(rows);
    return this.prisma.$queryRaw<{ session_id: string; type: string }[]>`
      UPDATE session_items i SET body = r.body, erased_at = ${at}
      FROM jsonb_to_recordset(${json}::jsonb) AS r("sessionId" uuid, seq int, body jsonb), sessions s
      WHERE i.session_id = r."sessionId" AND i.seq = r.seq AND i.org_id = ${orgId}::uuid AND i.erased_at IS NULL
        AND s.id = i.session_id AND ${dueSession(orgId, cutoff, holds)}
      RETURNING i.session_id, i.type`;
  }

  /** Erases the text of these sessions' message inputs, where the sessions are still due; returns how many. */
  eraseInbox(orgId: string, cutoff: Date, holds: ActiveHolds, sessionIds: string[], marker: string, at: Date) {
    if (sessionIds.length === 0 || holds.org) return Promise.resolve(0);
    const content = JSON.stringify([{ type: 'text', text: marker }]);
    return this.prisma.$executeRaw`
      UPDATE inbox_entries e SET input = jsonb_set(e.input, '{content}', ${content}::jsonb), erased_at = ${at}
      FROM sessions s
      WHERE e.session_id = s.id AND s.id = ANY(${sessionIds}::uuid[]) AND ${dueSession(orgId, cutoff, holds)}
        AND ${unerasedInbox}`;
  }

  /** The last seq of the org's log with a time before `cutoff` (times follow seqs), 0 when none. */
  async lastSeqBefore(orgId: string, cutoff: Date): Promise<number> {
    const rows = await this.prisma.$queryRaw<{ seq: bigint | null }[]>`
      SELECT max(seq) AS seq FROM audit_events WHERE org_id = ${orgId}::uuid AND at < ${cutoff}`;
    return Number(rows[0]?.seq ?? 0);
  }

  /** Hashes of contents not redacted yet that events of seqs (lo, hi] name: candidates, checked by dueContentsAmong. */
  async contentsNamedIn(orgId: string, lo: number, hi: number): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ hash: string }[]>`
      SELECT DISTINCT e.content_hash AS hash FROM audit_events e
      JOIN audit_contents c ON c.org_id = e.org_id AND c.hash = e.content_hash
      WHERE e.org_id = ${orgId}::uuid AND e.seq > ${lo} AND e.seq <= ${hi} AND c.redacted_at IS NULL`;
    return rows.map((r) => r.hash);
  }

  /** Of these hashes, the contents still due: not redacted, and every event naming them older and held by none. */
  async dueContentsAmong(orgId: string, cutoff: Date, holds: ActiveHolds, hashes: string[]): Promise<string[]> {
    if (hashes.length === 0 || holds.org) return [];
    const rows = await this.prisma.$queryRaw<{ hash: string }[]>`
      SELECT c.hash FROM audit_contents c
      WHERE c.org_id = ${orgId}::uuid AND c.hash = ANY(${hashes}::text[]) AND c.redacted_at IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM audit_events e
          WHERE e.org_id = ${orgId}::uuid AND e.content_hash = c.hash AND (e.at >= ${cutoff} OR ${heldEvent(orgId, holds)}))`;
    return rows.map((r) => r.hash);
  }

  /**
   * Audit contents not yet redacted whose every event is older than `cutoff` and none held: by an org hold, a hold
   * on the acting user (or the user an agent or token acted for), on the event's session, or on its session's owner.
   */
  async dueAuditContents(orgId: string, cutoff: Date, holds: ActiveHolds): Promise<{ due: string[]; held: number }> {
    const rows = await this.prisma.$queryRaw<{ hash: string; held: boolean }[]>`
      WITH ev AS (
        SELECT e.content_hash AS hash, max(e.at) AS last_at, bool_or(${heldEvent(orgId, holds)}) AS held
        FROM audit_events e
        WHERE e.org_id = ${orgId}::uuid AND e.content_hash IS NOT NULL
        GROUP BY e.content_hash
      )
      SELECT ev.hash, ev.held FROM ev
      JOIN audit_contents c ON c.org_id = ${orgId}::uuid AND c.hash = ev.hash
      WHERE c.redacted_at IS NULL AND ev.last_at < ${cutoff}`;
    return { due: rows.filter((r) => !r.held).map((r) => r.hash), held: rows.filter((r) => r.held).length };
  }
}

const unerased = Prisma.sql`i.erased_at IS NULL AND i.type IN (${Prisma.join(ERASABLE)})`;
const unerasedInbox = Prisma.sql`e.erased_at IS NULL AND e.kind = 'message'`;

/** A session of the org idle since before `cutoff` and under no hold (the caller handles an org hold). */
function dueSession(orgId: string, cutoff: Date, holds: ActiveHolds) {
  return Prisma.sql`s.org_id = ${orgId}::uuid AND s.updated_at < ${cutoff} AND NOT ${heldSession(holds)}`;
}

function heldSession(holds: ActiveHolds) {
  if (holds.org) return Prisma.sql`true`;
  return Prisma.sql`(s.owner_id = ANY(${holds.users}::uuid[]) OR s.id = ANY(${holds.sessions}::uuid[]))`;
}

function heldEvent(orgId: string, holds: ActiveHolds) {
  if (holds.org) return Prisma.sql`true`;
  return Prisma.sql`(
    e.actor_id = ANY(${holds.users}::text[])
    OR (e.event->'actor'->>'onBehalfOf') = ANY(${holds.users}::text[])
    OR e.session_id = ANY(${holds.sessions}::uuid[])
    OR e.session_id IN (
      SELECT id FROM sessions WHERE org_id = ${orgId}::uuid AND owner_id = ANY(${holds.users}::uuid[])))`;
}
