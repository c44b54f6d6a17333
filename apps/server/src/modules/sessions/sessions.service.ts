import { Injectable } from '@nestjs/common';
import { parseAgentYaml } from '@yoke/spec';
import { compilePolicies, loadErrors, policyEntries } from '@yoke/policy';
import {
  AgentSpec,
  AppError,
  type CancelBody,
  type ContentPart,
  type CreateSessionBody,
  type InputAccepted,
  type Item,
  type ItemsPage,
  type ListSessionsQuery,
  type PartialItem,
  type PolicyEntryWire,
  type SendMessageBody,
  type Session,
  type SessionPage,
  SpawnChild,
} from '@yoke/protocol';
import { parseOr } from '../../core/validation';
import { randomUUID } from 'node:crypto';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { RunnersService } from '../runners/runners.service';
import { PolicySetsService } from '../policies/policy-sets.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { SessionWatchers } from '../../core/realtime/session-watchers';
import { InboxDispatcher } from './inbox.dispatcher';
import { DeltaRelay } from './delta-relay';
import { toItem, toSessionView } from './session.mapper';
import { SessionsRepository } from './sessions.repository';
import { StartSession } from './start-session.use-case';
import { requestedWorkspace } from './requested-workspace';

const JOIN_PAGE = 1000;
type JoinReply = { session: Session; items: Item[]; partials: PartialItem[]; hasMore: boolean };

@Injectable()
export class SessionsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly startSession: StartSession,
    private readonly runners: RunnersService,
    private readonly dispatcher: InboxDispatcher,
    private readonly deltas: DeltaRelay,
    private readonly publisher: RealtimePublisher,
    private readonly policySets: PolicySetsService,
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

  async create(p: Principal, body: CreateSessionBody): Promise<Session> {
    const agent = parseAgentYaml(body.agentYaml, body.agentFile ?? 'agent.yaml');
    assertAgentPolicies(agent.policies, body.agentFile ?? 'agent.yaml');
    const policies = await this.policySets.entriesFor(p.orgId, body.policiesYaml);
    const harness = body.harness ?? agent.harness;
    const model = body.model ?? agent.model ?? null;
    const workspace = body.workspace === undefined ? null : requestedWorkspace(body.workspace);
    const runnerId = await this.runners.pick(p.orgId, body.runnerId);
    const { session } = await this.startSession.start({
      orgId: p.orgId,
      ownerId: p.userId,
      runnerId,
      title: body.title ?? (body.prompt ? body.prompt.slice(0, 80) : agent.name),
      agent,
      harness,
      model,
      workspace,
      policies,
      idempotencyKey: body.idempotencyKey ?? null,
      ...(body.prompt ? { prompt: { text: body.prompt, actor: { id: p.userId, name: p.name } } } : {}),
    });
    return session;
  }

  /**
   * A runner's parent session delegates to one of its agent's `agents:`: a child session with the same org, owner,
   * runner, workspace, org/session policies and the parent agent's tools, policies and sandbox, whose first prompt is
   * the delegated task. Only the runner that holds the parent may ask; idempotent by the parent's call id.
   */
  async spawnChild(runner: { runnerId: string; orgId: string }, payload: unknown) {
    const req = parseOr(SpawnChild, payload, 'event.invalid');
    const parent = await this.repo.findById(runner.orgId, req.parentId);
    if (!parent || parent.runnerId !== runner.runnerId) {
      throw new AppError('session.not_found', 'no such session on this runner');
    }
    if (parent.status === 'archived') throw new AppError('session.archived', 'the parent session is archived');
    const parsed = AgentSpec.safeParse(parent.agent);
    if (!parsed.success) throw new AppError('agent.invalid', 'the parent session has no valid agent');
    const lead = parsed.data;
    const sub = Object.hasOwn(lead.agents, req.agent) ? lead.agents[req.agent] : undefined;
    if (!sub) {
      const names = Object.keys(lead.agents).join(', ') || 'none';
      throw new AppError('request.invalid', `agent ${lead.name} has no sub-agent "${req.agent}" (it has: ${names})`);
    }
    const key = `delegate:${parent.id}:${req.callId}`;
    const existing = await this.repo.findByIdempotencyKey(parent.orgId, parent.ownerId, key);
    if (existing) return this.existingChild(existing, parent.id);

    const agent: AgentSpec = AgentSpec.parse({
      name: req.agent,
      description: `sub-agent of ${lead.name}`,
      prompt: sub.prompt,
      harness: sub.harness,
      ...(sub.model ? { model: sub.model } : {}),
      ...(sub.provider ? { provider: sub.provider } : {}),
      maxSteps: lead.maxSteps,
      tools: sub.tools ?? lead.tools,
      policies: lead.policies,
      sandbox: lead.sandbox,
    });
    const { session, created } = await this.startSession.start({
      orgId: parent.orgId,
      ownerId: parent.ownerId,
      runnerId: runner.runnerId,
      parentId: parent.id,
      title: `${req.agent}: ${req.prompt}`.slice(0, 80),
      agent,
      harness: agent.harness,
      model: sub.model ?? parent.model ?? null,
      workspace: parent.workspace,
      policies: parent.policies as PolicyEntryWire[],
      idempotencyKey: key,
      prompt: { text: req.prompt, actor: { id: parent.ownerId, name: `${lead.name} (delegate)` } },
    });
    // Two concurrent asks with the same call id: the loser gets the winner's child.
    if (!created) return this.existingChild(session, parent.id);
    this.publisher.sessionUpdated(session);
    return { sessionId: session.id, created };
  }

  private existingChild(row: { id: string; parentId: string | null }, parentId: string) {
    if (row.parentId !== parentId) throw new AppError('request.invalid', 'that call id is already used');
    return { sessionId: row.id, created: false };
  }

  async list(p: Principal, q: ListSessionsQuery): Promise<SessionPage> {
    const rows = await this.repo.list(p.orgId, {
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
      sessions: page.map((r) => this.view(r)),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.updatedAt, last.id) : null,
    };
  }

  async get(p: Principal, id: string): Promise<Session> {
    await this.access.require(p, id, 'view');
    const row = await this.repo.findById(p.orgId, id);
    if (!row) throw new AppError('session.not_found', 'no such session');
    return this.view(row);
  }

  async items(p: Principal, id: string, afterSeq: number, limit: number): Promise<ItemsPage> {
    const session = await this.get(p, id);
    const rows = await this.repo.items(p.orgId, id, afterSeq, limit);
    const items: Item[] = rows.slice(0, limit).map(toItem);
    return { items, lastSeq: session.lastSeq, hasMore: rows.length > limit };
  }

  async sendMessage(p: Principal, id: string, body: SendMessageBody): Promise<InputAccepted> {
    const content: ContentPart[] = body.content ?? (body.text ? [{ type: 'text', text: body.text }] : []);
    if (content.length === 0) throw new AppError('request.invalid', 'a message needs `text` or `content`');
    const idempotencyKey = body.idempotencyKey;
    const session = await this.get(p, id);
    await this.access.require(p, id, 'drive');
    if (session.status === 'archived') throw new AppError('session.archived', 'the session is archived');
    return this.enqueueInput(
      session,
      { kind: 'message', content, actor: { id: p.userId, name: p.name } },
      idempotencyKey,
    );
  }

  async cancel(p: Principal, id: string, body: CancelBody): Promise<InputAccepted> {
    const session = await this.get(p, id);
    await this.access.require(p, id, 'drive');
    return this.enqueueInput(session, { kind: 'cancel', actor: { id: p.userId, name: p.name } }, body.idempotencyKey);
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

  /** Tells every viewer that a runner came or went (sessions show "runner offline"). */
  async publishRunnerSessions(runnerId: string): Promise<void> {
    const rows = await this.repo.listForRunner(runnerId, 200);
    for (const row of rows) this.publisher.sessionUpdated(this.view(row));
  }

  view(row: Parameters<typeof toSessionView>[0]): Session {
    return toSessionView(row, (r) => this.runners.isOnline(r));
  }

  /** Stores an input for the session's runner (idempotent by key) and delivers it at least once. */
  async enqueueInput(
    session: Session,
    input: Parameters<SessionsRepository['addInbox']>[2],
    idempotencyKey: string | undefined,
  ): Promise<InputAccepted> {
    if (!session.runnerId) throw new AppError('runner.not_found', 'the session has no runner');
    const row = await this.repo.addInbox(session.orgId, session.id, input, idempotencyKey ?? randomUUID());
    if (row.deliveredAt) return { inboxId: row.id, delivered: true };
    const delivered = await this.dispatcher.dispatch(session.runnerId, row);
    return { inboxId: row.id, delivered };
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

/** An agent's own policies must load: a broken one is refused at creation (at run time it would deny everything). */
function assertAgentPolicies(policies: Record<string, unknown>[], file: string): void {
  const errors = loadErrors(compilePolicies(policyEntries('agent', policies, 'policies')));
  if (errors.length === 0) return;
  throw new AppError('agent.invalid', errors.map((e) => `${file}: ${e.origin}: ${e.message}`).join('\n'), {
    issues: errors.map((e) => ({ file, path: e.origin, message: e.message })),
  });
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
