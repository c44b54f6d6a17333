import { Injectable } from '@nestjs/common';
import {
  AgentSpec,
  AppError,
  type CreateSessionBody,
  type PolicyEntryWire,
  type Session,
  SpawnChild,
} from '@yoke/protocol';
import { parseOr } from '../../core/validation';
import type { Principal } from '../../core/auth/principal';
import { RunnersService } from '../runners/runners.service';
import { PolicySetsService } from '../policies/policy-sets.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { AgentsService } from '../agents/agents.service';
import { parseAgent } from '../agents/agent-validation';
import { SessionsRepository } from './sessions.repository';
import { StartSession } from './start-session.use-case';
import { requestedWorkspace } from './requested-workspace';

/** Starting sessions: a principal's new session, and a child session a runner's parent session delegates to. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly startSession: StartSession,
    private readonly runners: RunnersService,
    private readonly publisher: RealtimePublisher,
    private readonly policySets: PolicySetsService,
    private readonly library: AgentsService,
  ) {}

  async create(p: Principal, body: CreateSessionBody): Promise<Session> {
    const agent =
      body.agentId !== undefined
        ? (await this.library.resolve(p.orgId, body.agentId, body.agentVersion)).spec
        : parseAgent(body.agentYaml ?? '', body.agentFile ?? 'agent.yaml');
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
      // The parent's agent delegates, on behalf of the session's owner.
      actor: { kind: 'agent', id: parent.id, name: lead.name, onBehalfOf: parent.ownerId },
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
}
