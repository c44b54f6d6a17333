import { Injectable } from '@nestjs/common';
import type { AgentSpec } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

const WITH_LATEST = { versions: { orderBy: { version: 'desc' }, take: 1 } } as const;

export type AgentRow = Prisma.AgentGetPayload<{ include: typeof WITH_LATEST }>;
export type AgentVersionRow = Prisma.AgentVersionGetPayload<object>;

/** The org's agent library: agents and their versions. Every method is scoped by org. */
@Injectable()
export class AgentsRepository {
  constructor(private readonly db: Transactions) {}

  private get prisma() {
    return this.db.client;
  }

  list(orgId: string): Promise<AgentRow[]> {
    return this.prisma.agent.findMany({ where: { orgId }, include: WITH_LATEST, orderBy: { name: 'asc' } });
  }

  find(orgId: string, id: string): Promise<AgentRow | null> {
    return this.prisma.agent.findFirst({ where: { orgId, id }, include: WITH_LATEST });
  }

  /** The agent's row locked for a change (two saves of one agent queue up instead of racing for a version). */
  async lock(orgId: string, id: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id FROM agents WHERE org_id = ${orgId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    return rows.length > 0;
  }

  findVersion(orgId: string, agentId: string, version: number): Promise<AgentVersionRow | null> {
    return this.prisma.agentVersion.findFirst({ where: { orgId, agentId, version } });
  }

  versions(orgId: string, agentId: string): Promise<AgentVersionRow[]> {
    return this.prisma.agentVersion.findMany({ where: { orgId, agentId }, orderBy: { version: 'desc' } });
  }

  isNameTaken(orgId: string, name: string, exceptId?: string): Promise<boolean> {
    return this.prisma.agent
      .findFirst({ where: { orgId, name, ...(exceptId ? { id: { not: exceptId } } : {}) }, select: { id: true } })
      .then(Boolean);
  }

  /** Creates the agent at version 1; null when the org already has an agent of that name. */
  async create(data: { orgId: string; yaml: string; spec: AgentSpec; userId: string }): Promise<AgentRow | null> {
    const [agent] = await this.prisma.agent.createManyAndReturn({
      data: [
        { orgId: data.orgId, name: data.spec.name, latestVersion: 1, createdBy: data.userId, updatedBy: data.userId },
      ],
      skipDuplicates: true,
    });
    if (!agent) return null;
    await this.addVersion(agent.id, 1, data);
    return this.find(data.orgId, agent.id);
  }

  /** Adds `version` (the next one) and makes it the latest; null when its new name is another agent's. */
  async update(
    id: string,
    version: number,
    data: { orgId: string; yaml: string; spec: AgentSpec; userId: string },
  ): Promise<AgentRow | null> {
    try {
      await this.prisma.agent.updateMany({
        where: { orgId: data.orgId, id },
        data: { name: data.spec.name, latestVersion: version, updatedBy: data.userId },
      });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return null;
      throw err;
    }
    await this.addVersion(id, version, data);
    return this.find(data.orgId, id);
  }

  async delete(orgId: string, id: string): Promise<void> {
    await this.prisma.agent.deleteMany({ where: { orgId, id } });
  }

  private async addVersion(
    agentId: string,
    version: number,
    data: { orgId: string; yaml: string; spec: AgentSpec; userId: string },
  ): Promise<void> {
    await this.prisma.agentVersion.create({
      data: {
        agentId,
        orgId: data.orgId,
        version,
        yaml: data.yaml,
        spec: data.spec as Prisma.InputJsonValue,
        createdBy: data.userId,
      },
    });
  }
}
