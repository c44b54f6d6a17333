import { Injectable } from '@nestjs/common';
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
import { requireFrom, SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { SessionWatchers } from '../../core/realtime/session-watchers';
import { DeltaRelay } from './delta-relay';
import { toItem } from './session.mapper';
import { SessionsRepository } from './sessions.repository';
import { SessionReadsRepository } from './session-reads.repository';
import { SessionViewsService } from './session-views.service';

const JOIN_PAGE = 1000;

/** Reading sessions as a principal may see them: pages, one session, its items, what it started with, joining it. */
@Injectable()
export class SessionQueriesService {
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
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      sessions: page.map((r) => this.views.view(r)),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.updatedAt, last.id) : null,
    };
  }

  /** One statement: the session with its runner and the caller's grant, checked as `SessionAccessService` would. */
  async get(p: Principal, id: string): Promise<Session> {
    if (p.scope && p.scope.sessionId !== id) throw new AppError('session.not_found', 'no such session');
    const found = await this.reads.findViewable(p.orgId, id, p.userId);
    if (!found) throw new AppError('session.not_found', 'no such session');
    requireFrom(p, found.session, found.grant, 'view');
    return this.views.view(found.session);
  }

  /** One statement: the page with the session's owner, last seq and the caller's grant, checked before answering. */
  async items(p: Principal, id: string, afterSeq: number, limit: number): Promise<ItemsPage> {
    if (p.scope && p.scope.sessionId !== id) throw new AppError('session.not_found', 'no such session');
    const found = await this.reads.findItemsPage(p.orgId, id, p.userId, afterSeq, limit);
    if (!found) throw new AppError('session.not_found', 'no such session');
    requireFrom(p, found.session, found.grant, 'view');
    const { session, items: rows } = found;
    const items: Item[] = rows.slice(0, limit).map(toItem);
    return { items, lastSeq: session.lastSeq, hasMore: rows.length > limit };
  }

  /**
   * A viewer joins a session: authorize, join the room first, then read history after `afterSeq`, so nothing
   * published in between is missed (the client drops the overlap by seq). The partial items come from whichever
   * replica relays the session's runner (asking the others also makes them send this replica its deltas).
   */
  async join(p: Principal, id: string, afterSeq: number, joinRoom: () => Promise<void> | void): Promise<JoinReply> {
    await this.get(p, id);
    await joinRoom();
    const [page, remote] = await Promise.all([this.items(p, id, afterSeq, JOIN_PAGE), this.watchers.watch(id)]);
    const session = await this.get(p, id);
    return {
      session,
      items: page.items,
      partials: mergePartials(this.deltas.snapshot(id), remote),
      hasMore: page.hasMore,
    };
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
