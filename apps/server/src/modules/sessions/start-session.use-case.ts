import { Injectable } from '@nestjs/common';
import type { Actor, AgentSpec, AuditActor, InboxInput, PolicyEntryWire, Session } from '@yoke/protocol';
import { traceField } from '../../core/telemetry/trace-context';
import { Transactions } from '../../core/prisma/transactions';
import { type AuditEntry, AuditTrail } from '../audit/audit-trail.service';
import { RunnersService } from '../runners/runners.service';
import { InboxDispatcher } from './inbox.dispatcher';
import { toSessionView } from './session.mapper';
import { type NewInbox, SessionsRepository } from './sessions.repository';

/** A session to start, as its caller (create, delegate, fork) decided it. */
export type StartRequest = {
  orgId: string;
  ownerId: string;
  runnerId: string;
  title: string;
  agent: AgentSpec;
  harness: AgentSpec['harness'];
  model: string | null;
  workspace: string | null;
  /** Org and session policies in force (the agent's own travel in `agent.policies`). */
  policies: PolicyEntryWire[];
  /** Makes a repeat return the session the first ask made. */
  idempotencyKey: string | null;
  /** A child session: the parent whose `delegate` call started it. */
  parentId?: string;
  /**
   * A fork: it starts with this session's items 1..seq, under the same seqs; with `copyWorkspace`, its runner (the
   * original's) copies the original's workspace into the fork's.
   */
  fork?: { sessionId: string; seq: number; copyWorkspace?: boolean };
  /** The first message, sent right after `start`. */
  prompt?: { text: string; actor: Actor };
  /** Who the audit log names as creating it; the request's actor when absent. */
  actor?: AuditActor;
};

/** The one way a session comes to be. */
@Injectable()
export class StartSession {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly dispatcher: InboxDispatcher,
    private readonly runners: RunnersService,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Writes the session in one transaction — its row, a fork's items, its `start` input, the optional prompt and its
   * audit events (`session.created`; a fork's `session.forked` too) — then hands the inputs to its runner (delivered
   * at least once: what the runner misses is sent again when it reconnects).
   * Idempotent by `idempotencyKey`: a repeat, or the loser of two concurrent asks, gets the session that key made
   * (`created: false`) and sends nothing.
   */
  async start(req: StartRequest): Promise<{ session: Session; created: boolean }> {
    let result;
    try {
      result = await this.tx.run(async () => {
        const r = await this.repo.create(
          {
            orgId: req.orgId,
            ownerId: req.ownerId,
            runnerId: req.runnerId,
            parentId: req.parentId ?? null,
            forkedFrom: req.fork ? { sessionId: req.fork.sessionId, seq: req.fork.seq } : null,
            title: req.title,
            agent: req.agent,
            harness: req.harness,
            model: req.model,
            workspace: req.workspace,
            policies: req.policies,
            idempotencyKey: req.idempotencyKey,
          },
          (sessionId) => firstInputs(sessionId, req),
        );
        if (r.created) await this.audit.record(...startEvents(req, r.session));
        return r;
      });
    } catch (err) {
      const winner = req.idempotencyKey
        ? await this.repo.findByIdempotencyKey(req.orgId, req.ownerId, req.idempotencyKey)
        : null;
      if (!winner) throw err;
      return { session: this.view(winner), created: false };
    }
    for (const row of result.inbox) void this.dispatcher.dispatch(req.runnerId, row);
    return { session: this.view(result.session), created: result.created };
  }

  private view(row: Parameters<typeof toSessionView>[0]): Session {
    return toSessionView(row, (r) => this.runners.isOnline(r));
  }
}

/** A new session's audit events: its creation and, for a fork, the fork as an event of the session it came from. */
function startEvents(req: StartRequest, session: { id: string; title: string }): AuditEntry[] {
  const actor = req.actor ? { actor: req.actor } : {};
  const created: AuditEntry = {
    orgId: req.orgId,
    action: 'session.created',
    target: { kind: 'session', id: session.id, name: session.title.slice(0, 500) },
    sessionId: session.id,
    ...actor,
    details: {
      agent: req.agent.name,
      harness: req.harness,
      model: req.model,
      runnerId: req.runnerId,
      workspace: req.workspace,
      policies: req.policies.length,
      parentId: req.parentId ?? null,
      forkedFrom: req.fork?.sessionId ?? null,
      forkedAtSeq: req.fork?.seq ?? null,
    },
  };
  if (!req.fork) return [created];
  return [
    created,
    {
      orgId: req.orgId,
      action: 'session.forked',
      target: { kind: 'session', id: req.fork.sessionId },
      sessionId: req.fork.sessionId,
      ...actor,
      details: { forkId: session.id, seq: req.fork.seq, harness: req.harness, model: req.model },
    },
  ];
}

/** `start` (a fork's names the seq it continues after; a child's, its parent), then the prompt if there is one. */
function firstInputs(sessionId: string, req: StartRequest): NewInbox[] {
  const start: InboxInput = {
    kind: 'start',
    spec: {
      sessionId,
      agent: { ...req.agent, harness: req.harness },
      harness: req.harness,
      model: req.model,
      workspace: req.workspace,
      policies: req.policies,
      ...(req.fork ? { baseSeq: req.fork.seq } : {}),
      ...(req.fork?.copyWorkspace ? { forkFrom: req.fork.sessionId } : {}),
      ...(req.parentId ? { parentId: req.parentId } : {}),
      orgId: req.orgId,
    },
  };
  if (!req.prompt) return [{ key: 'start', input: start }];
  const prompt: InboxInput = {
    kind: 'message',
    content: [{ type: 'text', text: req.prompt.text }],
    actor: req.prompt.actor,
    ...traceField(),
  };
  return [
    { key: 'start', input: start },
    { key: 'prompt', input: prompt },
  ];
}
