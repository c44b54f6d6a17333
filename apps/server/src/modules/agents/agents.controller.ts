import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
import { AppError, CreateAgentBody, UpdateAgentBody, ValidateAgentBody } from '@yoke/protocol';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Audited, NotAudited } from '../audit/audited';
import { AgentsService } from './agents.service';

/** An id that is not a uuid names no agent. */
const AgentId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('agent.not_found', 'no such agent') });

/**
 * The org's agent library (docs/agents.md, "Agent library"): anyone in the org reads it; members and above save
 * agents; the person who saved an agent, or an admin, changes (a new version) or deletes it.
 */
@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Allow('auditor')
  @NotAudited('a read of the org agent library')
  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.agents.list(p);
  }

  @Allow('auditor')
  @NotAudited('a read of the example agents shipped with Yoke')
  @Get('examples')
  examples() {
    return this.agents.examples();
  }

  @Allow('member')
  @NotAudited('checks YAML and stores nothing')
  @HttpCode(200)
  @Post('validate')
  validate(@Body(new ZodPipe(ValidateAgentBody)) body: ValidateAgentBody) {
    return this.agents.validate(body);
  }

  @Allow('member')
  @Audited('agent.created')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateAgentBody)) body: CreateAgentBody) {
    return this.agents.create(p, body);
  }

  @Allow('auditor')
  @NotAudited('a read of the org agent library')
  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id', AgentId) id: string) {
    return this.agents.get(p, id);
  }

  @Allow('auditor')
  @NotAudited('a read of the org agent library')
  @Get(':id/versions')
  versions(@CurrentPrincipal() p: Principal, @Param('id', AgentId) id: string) {
    return this.agents.versions(p, id);
  }

  @Allow('member')
  @Audited('agent.updated')
  @Put(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', AgentId) id: string,
    @Body(new ZodPipe(UpdateAgentBody)) body: UpdateAgentBody,
  ) {
    return this.agents.update(p, id, body);
  }

  @Allow('member')
  @Audited('agent.deleted')
  @HttpCode(204)
  @Delete(':id')
  remove(@CurrentPrincipal() p: Principal, @Param('id', AgentId) id: string) {
    return this.agents.delete(p, id);
  }
}
