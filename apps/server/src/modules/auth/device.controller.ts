import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { DeviceCodeBody, DeviceDecisionBody, DeviceLookupQuery, DeviceTokenBody } from '@yoke/protocol';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { DeviceService } from './device.service';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { RequestOrigin } from '../../core/http/request-origin';

/** RFC 8628 for the CLI: device code and token endpoints (public), lookup and decision (a signed-in person). */
@Controller('auth/device')
export class DeviceController {
  constructor(private readonly device: DeviceService) {}

  @Allow('public')
  @NotAudited('an anonymous request tied to no org yet: its approval is auth.device_login, its token api_token.created')
  @Post('code')
  @HttpCode(200)
  code(@Body(new ZodPipe(DeviceCodeBody)) body: DeviceCodeBody, @RequestOrigin() origin: string) {
    return this.device.start(body, origin);
  }

  @Allow('public')
  @Audited('api_token.created')
  @Post('token')
  async token(@Body(new ZodPipe(DeviceTokenBody)) body: DeviceTokenBody, @Res() res: Response) {
    const out = await this.device.poll(body);
    res
      .status(out.ok ? 200 : 400)
      .set('cache-control', 'no-store')
      .json(out.body);
  }

  /** The page the CLI sends people to: sign in if needed, then approve or deny the code. */
  @Allow('public')
  @NotAudited('the sign-in / approval page: it changes nothing (the decision it posts is auth.device_login)')
  @Get('verify')
  async page(@Query('code') code: string | undefined, @Req() req: Request, @Res() res: Response) {
    // Never framed by another site (no clickjacking of the Approve button).
    res
      .set({
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
        'content-security-policy': "frame-ancestors 'none'",
      })
      .type('html')
      .send(await this.device.page(String(code ?? ''), req.headers));
  }

  @Allow('auditor')
  @NotAudited('shows the signed-in person what a code asks for; changes nothing')
  @Get()
  lookup(@Query(new ZodPipe(DeviceLookupQuery)) q: z.infer<typeof DeviceLookupQuery>) {
    return this.device.lookup(q.userCode);
  }

  @Allow('auditor')
  @Audited('auth.device_login')
  @Post('decision')
  @HttpCode(200)
  decide(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(DeviceDecisionBody)) body: DeviceDecisionBody) {
    return this.device.decide(p, body);
  }
}
