import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { AppError, CreateEnrolmentBody, EnrolBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { RunnersService } from './runners.service';

// eslint-disable-next-line no-useless-assignment -- used by the @Param decorators below
const RunnerId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('runner.not_found', 'no such runner') });

@Controller('runners')
export class RunnersController {
  constructor(private readonly runners: RunnersService) {}

  @Allow('admin')
  @Audited('runner.enrolment_created')
  @Post('enrolments')
  createEnrolment(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateEnrolmentBody)) body: CreateEnrolmentBody) {
    return this.runners.createEnrolment(p, body);
  }

  /** The enrolment token in the body is the credential here. */
  @Allow('public')
  @Audited('runner.enrolled')
  @Post('enrol')
  @HttpCode(201)
  enrol(@Body(new ZodPipe(EnrolBody)) body: EnrolBody) {
    return this.runners.enrol(body);
  }

  @Allow('auditor')
  @NotAudited("a read of the org's runners")
  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.runners.list(p);
  }

  @Allow('admin')
  @Audited('runner.revoked')
  @Delete(':id')
  @HttpCode(204)
  revoke(@CurrentPrincipal() p: Principal, @Param('id', RunnerId) id: string) {
    return this.runners.revoke(p, id);
  }
}
