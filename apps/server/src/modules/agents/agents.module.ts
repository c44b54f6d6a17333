import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller';
import { AgentsRepository } from './agents.repository';
import { AgentsService } from './agents.service';

/**
 * The org's agent library (docs/agents.md, "Agent library"): the REST routes, and the service the sessions module
 * asks for a saved agent to start a session with. AuditTrail comes from the global AuditModule.
 */
@Module({
  controllers: [AgentsController],
  providers: [AgentsRepository, AgentsService],
  exports: [AgentsService],
})
export class AgentsModule {}
