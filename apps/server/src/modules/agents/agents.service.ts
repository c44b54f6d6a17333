import { Injectable } from '@nestjs/common';
import {
  AgentSpec,
  type AgentSummary,
  type AgentValidation,
  AppError,
  type CreateAgentBody,
  type ExampleAgentList,
  type LibraryAgent,
  type LibraryAgentList,
  type LibraryAgentVersion,
  type LibraryAgentVersionList,
  type UpdateAgentBody,
  type ValidateAgentBody,
} from '@yoke/protocol';
import { hasRole } from '../../core/auth/access';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { examplesDir, readExamples } from './agent-examples';
import { parseAgent, summarize, validateAgent } from './agent-validation';
import { type AgentRow, type AgentVersionRow, AgentsRepository } from './agents.repository';

/**
 * The org's agent library (docs/agents.md, "Agent library"). Everyone in the org reads it; members and above save
 * agents; a saved agent is changed (a new version) or deleted by the person who saved it or by an admin or owner. Every
 * change is checked like any agent first (nothing is stored on bad YAML) and commits with its audit event.
 */
@Injectable()
export class AgentsService {
  private readonly examplesDir = examplesDir();

  constructor(
    private readonly repo: AgentsRepository,
    private readonly trail: AuditTrail,
    private readonly tx: Transactions,
  ) {}

  async list(p: Principal): Promise<LibraryAgentList> {
    return { agents: (await this.repo.list(p.orgId)).map(toView) };
  }

  async get(p: Principal, id: string): Promise<LibraryAgent> {
    return toView(await this.getRow(p.orgId, id));
  }

  async versions(p: Principal, id: string): Promise<LibraryAgentVersionList> {
    await this.getRow(p.orgId, id);
    return { versions: (await this.repo.versions(p.orgId, id)).map(toVersionView) };
  }

  validate(body: ValidateAgentBody): AgentValidation {
    return validateAgent(body.yaml, 'agent.yaml');
  }

  async examples(): Promise<ExampleAgentList> {
    return { examples: await readExamples(this.examplesDir) };
  }

  async create(p: Principal, body: CreateAgentBody): Promise<LibraryAgent> {
    const spec = parseAgent(body.yaml, 'agent.yaml');
    return this.tx.run(async () => {
      const row = await this.repo.create({ orgId: p.orgId, yaml: body.yaml, spec, userId: p.userId });
      if (!row) throw nameTaken(spec.name);
      await this.trail.record({
        orgId: p.orgId,
        action: 'agent.created',
        target: { kind: 'agent', id: row.id, name: spec.name },
        details: { version: 1, harness: spec.harness, model: spec.model ?? null },
        content: { yaml: body.yaml },
      });
      return toView(row);
    });
  }

  async update(p: Principal, id: string, body: UpdateAgentBody): Promise<LibraryAgent> {
    const spec = parseAgent(body.yaml, 'agent.yaml');
    return this.tx.run(async () => {
      if (!(await this.repo.lock(p.orgId, id))) throw notFound();
      const before = await this.getRow(p.orgId, id);
      assertMayChange(p, before);
      if (body.expectedVersion !== undefined && body.expectedVersion !== before.latestVersion) {
        throw new AppError(
          'agent.version_conflict',
          `agent ${before.name} is at version ${before.latestVersion}, not ${body.expectedVersion}: reload it and save again`,
          { version: before.latestVersion },
        );
      }
      if (await this.repo.isNameTaken(p.orgId, spec.name, id)) throw nameTaken(spec.name);
      const version = before.latestVersion + 1;
      const row = await this.repo.update(id, version, { orgId: p.orgId, yaml: body.yaml, spec, userId: p.userId });
      if (!row) throw nameTaken(spec.name);
      await this.trail.record({
        orgId: p.orgId,
        action: 'agent.updated',
        target: { kind: 'agent', id, name: spec.name },
        details: {
          version,
          previousVersion: before.latestVersion,
          previousName: before.name,
          harness: spec.harness,
          model: spec.model ?? null,
        },
        content: { before: before.versions[0]?.yaml ?? '', after: body.yaml },
      });
      return toView(row);
    });
  }

  async delete(p: Principal, id: string): Promise<void> {
    await this.tx.run(async () => {
      if (!(await this.repo.lock(p.orgId, id))) throw notFound();
      const row = await this.getRow(p.orgId, id);
      assertMayChange(p, row);
      await this.repo.delete(p.orgId, id);
      await this.trail.record({
        orgId: p.orgId,
        action: 'agent.deleted',
        target: { kind: 'agent', id, name: row.name },
        details: { versions: row.latestVersion },
      });
    });
  }

  /**
   * A saved agent to start a session with: its latest version or `version`, with a file name for messages
   * (`library:<name>@v<n>`). The spec was checked when saved; it is parsed again against today's schema.
   */
  async resolve(orgId: string, id: string, version?: number): Promise<{ spec: AgentSpec; file: string }> {
    const row = await this.getRow(orgId, id);
    const v = version ?? row.latestVersion;
    const saved = await this.repo.findVersion(orgId, id, v);
    if (!saved) throw new AppError('agent.not_found', `agent ${row.name} has no version ${v}`);
    const file = `library:${row.name}@v${v}`;
    const spec = AgentSpec.safeParse(saved.spec);
    return { spec: spec.success ? spec.data : parseAgent(saved.yaml, file), file };
  }

  private async getRow(orgId: string, id: string): Promise<AgentRow> {
    const row = await this.repo.find(orgId, id);
    if (!row) throw notFound();
    return row;
  }
}

function notFound(): AppError {
  return new AppError('agent.not_found', 'no such agent');
}

function nameTaken(name: string): AppError {
  return new AppError('agent.exists', `the library already has an agent named ${name}`);
}

/** Who may change or delete a saved agent: the person who saved it, or an admin or owner. */
function assertMayChange(p: Principal, row: AgentRow): void {
  if (hasRole(p.role, 'admin') || row.createdBy === p.userId) return;
  throw new AppError('auth.forbidden', 'only the person who saved this agent, or an admin, can change it');
}

function toView(row: AgentRow): LibraryAgent {
  const latest = row.versions[0];
  return {
    id: row.id,
    version: row.latestVersion,
    ...storedSummary(latest.spec, row.name),
    yaml: latest.yaml,
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toVersionView(row: AgentVersionRow): LibraryAgentVersion {
  return {
    agentId: row.agentId,
    version: row.version,
    ...storedSummary(row.spec, ''),
    yaml: row.yaml,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** What a stored spec says of its agent; a spec today's schema no longer reads still lists, by name. */
function storedSummary(spec: unknown, name: string): AgentSummary {
  const parsed = AgentSpec.safeParse(spec);
  if (parsed.success) return summarize(parsed.data);
  const raw = spec as { name?: unknown } | null;
  return { name: typeof raw?.name === 'string' ? raw.name : name, description: null, harness: 'yoke', model: null };
}
