import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { DeviceCodeBody, DeviceDecisionBody, DeviceLookupQuery, DeviceTokenBody } from '@yoke/protocol';
import type { Response } from 'express';
import type { z } from 'zod';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from './access';
import { DeviceService } from './device.service';
import { CurrentPrincipal, type Principal } from './principal';
import { RequestOrigin } from './request-origin';

/** RFC 8628 for the CLI: device code and token endpoints (public), lookup and decision (a signed-in person). */
@Controller('auth/device')
export class DeviceController {
  constructor(private readonly device: DeviceService) {}

  @Allow('public')
  @Post('code')
  @HttpCode(200)
  code(@Body(new ZodPipe(DeviceCodeBody)) body: DeviceCodeBody, @RequestOrigin() origin: string) {
    return this.device.start(body, origin);
  }

  @Allow('public')
  @Post('token')
  async token(@Body(new ZodPipe(DeviceTokenBody)) body: DeviceTokenBody, @Res() res: Response) {
    const out = await this.device.poll(body);
    res
      .status(out.ok ? 200 : 400)
      .set('cache-control', 'no-store')
      .json(out.body);
  }

  @Allow('auditor')
  @Get()
  lookup(@Query(new ZodPipe(DeviceLookupQuery)) q: z.infer<typeof DeviceLookupQuery>) {
    return this.device.lookup(q.userCode);
  }

  @Allow('auditor')
  @Post('decision')
  @HttpCode(200)
  decide(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(DeviceDecisionBody)) body: DeviceDecisionBody) {
    return this.device.decide(p, body);
  }
}
