import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { AppError, CreateAuditSinkBody, UpdateAuditSinkBody } from '@yoke/protocol';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Audited, NotAudited } from './audited';
import { AuditSinks } from './audit-sinks.service';

const SinkId = new ParseUUIDPipe({
  exceptionFactory: () => new AppError('audit.sink_not_found', 'no such audit sink'),
});

/**
 * Where the org's audit log is streamed: owners and admins manage sinks; auditors (rule `audit`) see them and their
 * health. Another org's sink is a 404.
 */
@Controller('audit/sinks')
export class AuditSinksController {
  constructor(private readonly sinks: AuditSinks) {}

  @Allow('audit')
  @NotAudited('where the log is sent and how far each sink got; no event data')
  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.sinks.list(p.orgId);
  }

  @Allow('admin')
  @Audited('audit_sink.created')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateAuditSinkBody)) body: CreateAuditSinkBody) {
    return this.sinks.create(p, body);
  }

  @Allow('admin')
  @Audited('audit_sink.updated')
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', SinkId) id: string,
    @Body(new ZodPipe(UpdateAuditSinkBody)) body: UpdateAuditSinkBody,
  ) {
    return this.sinks.update(p, id, body);
  }

  @Allow('admin')
  @Audited('audit_sink.tested')
  @Post(':id/test')
  @HttpCode(200)
  test(@CurrentPrincipal() p: Principal, @Param('id', SinkId) id: string) {
    return this.sinks.test(p, id);
  }

  @Allow('admin')
  @Audited('audit_sink.deleted')
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('id', SinkId) id: string) {
    await this.sinks.remove(p, id);
  }
}
