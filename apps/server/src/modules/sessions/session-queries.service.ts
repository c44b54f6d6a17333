import { Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import {
  AppError,
  type Item,
  type ItemsPage,
  type JoinReply,
  type ListSessionsQuery,
  type PartialItem,
  type PolicyEntryWire,
  type Session,
  type SessionPage,
} from '@yoke/protocol';
import { type Capability, requireFrom, SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { SessionWatchers } from '../../core/realtime/session-watchers';
import { DeltaRelay } from './delta-relay';
import type { ItemsPageJson } from './items-page';
import { SessionsRepository } from './sessions.repository';
import { SessionReadsRepository } from './session-reads.repository';
import { SessionViewsService } from './session-views.service';

const JOIN_PAGE = 1000;
/**
 * Joins reading the database at once, per process. A burst of joins (every viewer of a team reconnecting after a
 * restart or a network blip) would otherwise take every pooled connection, and the last of them would wait past the
 * pool's timeout and fail as a database outage while other requests starve. Past this many they wait their turn here.
 */
export const JOIN_CONCURRENCY = 6;

/** Joins waiting their turn, at most; past it a join is refused (503, `dependency: 'joins'`) and the client retries. */
export const JOIN_QUEUE_LIMIT = 10_000;

/** Reading sessions as a principal may see them: pages, one session, its items, what it started with, joining it. */
@Injectable()
export class SessionQueriesService {
  private readonly joins = pLimit(JOIN_CONCURRENCY);

  constructor(
    private readonly repo: SessionsRepository,
    private readonly reads: SessionReadsRepository,
    private readonly views: SessionViewsService,
    private readonly deltas: DeltaRelay,
    private readonly access: SessionAccessService,
    private readonly watchers: SessionWatchers,
  ) {}

  /** What a session started with: its agent's policies, the org and session entries, its workspace. */
  async startedWith(p: Principal, id: string) {
    const row = await this.repo.findById(p.orgId, id);
    if (!row) throw new AppError('session.not_found', 'no such session');
    const agent = row.agent as { policies?: Record<string, unknown>[] };
    return {
      agentPolicies: agent.policies ?? [],
      policies: row.policies as PolicyEntryWire[],
      workspace: row.workspace ?? `/workspaces/${row.id}`,
    };
  }

  async list(p: Principal, q: ListSessionsQuery): Promise<SessionPage> {
    const rows = await this.reads.list(p.orgId, {
      status: q.status,
      includeArchived: q.includeArchived === 'true',
      limit: q.limit,
      cursor: q.cursor ? decodeCursor(q.cursor) : undefined,
      visibleTo: await this.access.visibleSessions(p),
      parentId: q.parentId,
      search: q.q,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      sessions: page.map((r) => this.views.view(r)),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.updatedAt, last.id) : null,
    };
  }

  /**
   * One statement: the session with its runner and the caller's grant, checked as `SessionAccessService` would, for
   * `capability` (a session the caller may not see is `session.not_found`; one they may see but not, say, drive is
   * `auth.forbidden`).
   */
  async get(p: Principal, id: string, capability: Capability = 'view'): Promise<Session> {
    if (p.scope && p.scope.sessionId !== id) throw new AppError('session.not_found', 'no such session');
    const found = await this.reads.findViewable(p.orgId, id, p.userId);
    if (!found) throw new AppError('session.not_found', 'no such session');
    requireFrom(p, found.session, found.grant, capability);
    return this.views.view(found.session);
  }

  /** One statement: the page with the session's owner, last seq and the caller's grant, checked before answering. */
  async items(p: Principal, id: string, afterSeq: number, limit: number): Promise<ItemsPage> {
    const page = await this.itemsJson(p, id, afterSeq, limit);
    return { items: JSON.parse(`[${page.chunks.join(',')}]`) as Item[], lastSeq: page.lastSeq, hasMore: page.hasMore };
  }

  /**
   * `items` as JSON text, for an answer that is written as it is (`writeItemsPage`): the items' JSON comes from
   * Postgres (or `toItem`, for a small page) and is never parsed or re-serialized here.
   */
  async itemsJson(p: Principal, id: string, afterSeq: number, limit: number): Promise<ItemsPageJson> {
    if (p.scope && p.scope.sessionId !== id) throw new AppError('session.not_found', 'no such session');
    const found = await this.reads.findItemsPage(p.orgId, id, p.userId, afterSeq, limit);
    if (!found) throw new AppError('session.not_found', 'no such session');
    requireFrom(p, found.session, found.grant, 'view');
    return { chunks: found.chunks, bytes: found.bytes, lastSeq: found.session.lastSeq, hasMore: found.hasMore };
  }

  /**
   * Joins a viewer to a session: its access checked, its room joined (so nothing published from then on is missed),
   * then its history page and the session as they are now, and the partial text of streams in flight (this
   * replica's and, in team mode, the other replicas'). The database reads take their turn (`JOIN_CONCURRENCY`).
   */
  async join(p: Principal, id: string, afterSeq: number, joinRoom: () => Promise<void> | void): Promise<JoinReply> {
    let remote: Promise<PartialItem[]> = Promise.resolve([]);
    const [page, session] = await this.inTurn(async () => {
      await this.get(p, id);
      await joinRoom();
      // The other replicas' partial text is asked for meanwhile, outside the turn (no database in it).
      remote = this.watchers.watch(id);
      // The page and the session at once, both read after the room was joined: whatever changes after either read
      // reaches the viewer as an event.
      return Promise.all([this.items(p, id, afterSeq, JOIN_PAGE), this.get(p, id)]);
    });
    return {
      session,
      items: page.items,
      partials: mergePartials(this.deltas.snapshot(id), await remote),
      hasMore: page.hasMore,
    };
  }

  /** Runs a join's database work in its turn; refused (503) when too many already wait. */
  private inTurn<T>(read: () => Promise<T>): Promise<T> {
    if (this.joins.pendingCount >= JOIN_QUEUE_LIMIT) {
      return Promise.reject(
        new AppError('service.unavailable', 'too many sessions are being opened at once; retry shortly', {
          dependency: 'joins',
        }),
      );
    }
    return this.joins(read);
  }
}

function encodeCursor(updatedAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([updatedAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { updatedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const updatedAt = new Date(at);
    if (Number.isNaN(updatedAt.getTime()) || typeof id !== 'string') throw new Error('bad cursor');
    return { updatedAt, id };
  } catch {
    throw new AppError('request.invalid', 'invalid cursor');
  }
}

/** One partial item per stream: where two replicas hold one (a runner that moved), the longer text wins. */
function mergePartials(local: PartialItem[], remote: PartialItem[]): PartialItem[] {
  if (remote.length === 0) return local;
  const byStream = new Map<string, PartialItem>();
  for (const p of [...local, ...remote]) {
    const held = byStream.get(p.streamId);
    if (!held || p.text.length > held.text.length) byStream.set(p.streamId, p);
  }
  return [...byStream.values()];
}
