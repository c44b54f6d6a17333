import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, StreamableFile } from '@nestjs/common';
import { AppError, AuditEventsQuery, CreateAuditExportBody } from '@yoke/protocol';
import { z } from 'zod';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { ZodPipe } from '../../core/zod-body.pipe';
import { AuditExports } from './audit-exports.service';
import { AuditQueries } from './audit-queries.service';
import { Audited, NotAudited } from './audited';

const ExportId = new ParseUUIDPipe({
  exceptionFactory: () => new AppError('audit.export_not_found', 'no such export'),
});
const CheckpointsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(20) });

/** The org's audit log: owners, admins and auditors (rule `audit`); another org's log is never reachable. */
@Controller('audit')
export class AuditController {
  constructor(
    private readonly queries: AuditQueries,
    private readonly exports: AuditExports,
  ) {}

  @Allow('audit')
  @Audited('audit.read')
  @Get('events')
  events(@CurrentPrincipal() p: Principal, @Query(new ZodPipe(AuditEventsQuery)) q: AuditEventsQuery) {
    return this.queries.events(p, q);
  }

  @Allow('audit')
  @NotAudited('signed tree heads carry no event data; anyone holding a bundle may check them')
  @Get('checkpoints')
  checkpoints(
    @CurrentPrincipal() p: Principal,
    @Query(new ZodPipe(CheckpointsQuery)) q: z.infer<typeof CheckpointsQuery>,
  ) {
    return this.queries.checkpoints(p.orgId, q.limit);
  }

  @Allow('audit')
  @NotAudited('the log size and its latest signed checkpoint carry no event data')
  @Get('status')
  status(@CurrentPrincipal() p: Principal) {
    return this.queries.status(p.orgId);
  }

  /** Public: verifiers need the keys, and a public key reveals nothing. */
  @Allow('public')
  @NotAudited('public keys, published for verifiers')
  @Get('keys')
  keys() {
    return this.queries.keysPublished();
  }

  @Allow('audit')
  @Audited('audit.exported')
  @Post('exports')
  @HttpCode(202)
  createExport(
    @CurrentPrincipal() p: Principal,
    @Body(new ZodPipe(CreateAuditExportBody)) body: CreateAuditExportBody,
  ) {
    return this.exports.request(p, body);
  }

  @Allow('audit')
  @NotAudited('the status of an export, whose request is audited')
  @Get('exports/:id')
  getExport(@CurrentPrincipal() p: Principal, @Param('id', ExportId) id: string) {
    return this.exports.get(p.orgId, id);
  }

  @Allow('audit')
  @Audited('audit.downloaded')
  @Get('exports/:id/download')
  async download(@CurrentPrincipal() p: Principal, @Param('id', ExportId) id: string) {
    const { stream, bytes, name } = await this.exports.download(p.orgId, id);
    return new StreamableFile(stream, {
      type: 'application/gzip',
      length: bytes,
      disposition: `attachment; filename="${name}"`,
    });
  }
}
