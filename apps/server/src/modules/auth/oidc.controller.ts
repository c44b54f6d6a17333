import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { orgPickerPage } from './sign-in-pages';
import { OidcService } from './oidc.service';
import { CurrentPrincipal, CurrentSource, type Principal, type PrincipalSource } from '../../core/auth/principal';
import { RequestOrigin } from '../../core/http/request-origin';

/** Browser single sign-on: /auth/oidc/login?org=<slug>[&returnTo=/path] -> provider -> /auth/oidc/callback. */
@Controller('auth')
export class OidcController {
  constructor(private readonly oidc: OidcService) {}

  @Allow('public')
  @NotAudited('the first leg of a sign-in: nobody is identified yet (the callback records the outcome)')
  @Get('oidc/login')
  async login(
    @Query('org') org: string | undefined,
    @Query('returnTo') returnTo: string | undefined,
    @RequestOrigin() origin: string,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    if (!org && req.accepts(['json', 'html']) === 'html') {
      // A person who opened the sign-in link without an org: ask which one.
      res.set({ 'cache-control': 'no-store', 'x-frame-options': 'DENY' }).type('html').send(orgPickerPage(returnTo));
      return;
    }
    const reply = await this.oidc.start(org, returnTo, origin, req);
    res.append('Set-Cookie', reply.cookies).redirect(302, reply.redirect);
  }

  @Allow('public')
  @Audited('auth.sign_in', 'auth.sign_in_failed', 'invitation.accepted')
  @Get('oidc/callback')
  async callback(@RequestOrigin() origin: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    try {
      const reply = await this.oidc.callback(req.query, origin, req);
      res.append('Set-Cookie', reply.cookies).redirect(302, reply.redirect);
    } catch (err) {
      res.append('Set-Cookie', this.oidc.clearPending(origin));
      throw err;
    }
  }

  /** Signs the caller out: ends this browser session (or this API token) and clears the cookies. */
  @Allow('auditor')
  @Audited('auth.sign_out')
  @Post('logout')
  @HttpCode(204)
  async logout(
    @CurrentPrincipal() p: Principal,
    @CurrentSource() source: PrincipalSource | undefined,
    @RequestOrigin() origin: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    res.append('Set-Cookie', await this.oidc.logout(p, source, origin));
  }
}
