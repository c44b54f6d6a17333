import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { AppError, CreateEnrolmentBody, EnrolBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { RunnersService } from './runners.service';

// eslint-disable-next-line no-useless-assignment -- used by the @Param decorators below
const RunnerId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('runner.not_found', 'no such runner') });

@Controller('runners')
export class RunnersController {
  constructor(private readonly runners: RunnersService) {}

  @Allow('admin')
  @Post('enrolments')
  createEnrolment(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateEnrolmentBody)) body: CreateEnrolmentBody) {
    return this.runners.createEnrolment(p, body);
  }

  /** The enrolment token in the body is the credential here. */
  @Allow('public')
  @Post('enrol')
  @HttpCode(201)
  enrol(@Body(new ZodPipe(EnrolBody)) body: EnrolBody) {
    return this.runners.enrol(body);
  }

  @Allow('auditor')
  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.runners.list(p);
  }

  @Allow('admin')
  @Delete(':id')
  @HttpCode(204)
  revoke(@CurrentPrincipal() p: Principal, @Param('id', RunnerId) id: string) {
    return this.runners.revoke(p, id);
  }
}
