import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CreateEnrolmentBody, EnrolBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { CurrentPrincipal, Public, type Principal } from '../auth/principal';
import { RunnersService } from './runners.service';

@Controller('runners')
export class RunnersController {
  constructor(private readonly runners: RunnersService) {}

  @Post('enrolments')
  createEnrolment(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateEnrolmentBody)) body: CreateEnrolmentBody) {
    return this.runners.createEnrolment(p, body);
  }

  @Public()
  @Post('enrol')
  @HttpCode(201)
  enrol(@Body(new ZodPipe(EnrolBody)) body: EnrolBody) {
    return this.runners.enrol(body);
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.runners.list(p);
  }
}
