import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { AppError, CreateInviteBody, CreateLinkBody, RedeemLinkBody, UpdateGrantBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { SharesService } from './shares.service';

const SessionId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('session.not_found', 'no such session') });
const ShareId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('share.not_found', 'no such share') });

/** Who a session is shared with (owner only), and opening a share link (members and guests). */
@Controller()
export class SharesController {
  constructor(private readonly shares: SharesService) {}

  @Allow('auditor')
  @NotAudited("the owner's read of who the session is shared with")
  @Get('sessions/:id/shares')
  list(@CurrentPrincipal() p: Principal, @Param('id', SessionId) id: string) {
    return this.shares.list(p, id);
  }

  @Allow('auditor')
  @Audited('share.created')
  @Post('sessions/:id/shares/invites')
  invite(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Body(new ZodPipe(CreateInviteBody)) body: CreateInviteBody,
  ) {
    return this.shares.invite(p, id, body);
  }

  @Allow('auditor')
  @Audited('share.grant_changed')
  @Patch('sessions/:id/shares/grants/:grantId')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Param('grantId', ShareId) grantId: string,
    @Body(new ZodPipe(UpdateGrantBody)) body: UpdateGrantBody,
  ) {
    return this.shares.updateGrant(p, id, grantId, body);
  }

  @Allow('auditor')
  @Audited('share.grant_revoked')
  @Delete('sessions/:id/shares/grants/:grantId')
  @HttpCode(204)
  revokeGrant(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Param('grantId', ShareId) grantId: string,
  ) {
    return this.shares.revokeGrant(p, id, grantId);
  }

  @Allow('auditor')
  @Audited('share.created')
  @Post('sessions/:id/shares/links')
  createLink(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Body(new ZodPipe(CreateLinkBody)) body: CreateLinkBody,
  ) {
    return this.shares.createLink(p, id, body);
  }

  @Allow('auditor')
  @Audited('share.revoked')
  @Delete('sessions/:id/shares/links/:linkId')
  @HttpCode(204)
  revokeLink(
    @CurrentPrincipal() p: Principal,
    @Param('id', SessionId) id: string,
    @Param('linkId', ShareId) linkId: string,
  ) {
    return this.shares.revokeLink(p, id, linkId);
  }

  /** A signed-in org member opens a link: they get its role in the session. */
  @Allow('auditor')
  @Audited('share.redeemed', 'share.granted')
  @Post('share-links/redeem')
  @HttpCode(200)
  redeem(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(RedeemLinkBody)) body: RedeemLinkBody) {
    return this.shares.redeemAsMember(p, body);
  }

  /** Someone without an account opens a link: a credential for that one session. */
  @Allow('public')
  @Audited('share.redeemed', 'guest.joined')
  @Post('share-links/redeem-guest')
  @HttpCode(200)
  redeemGuest(@Body(new ZodPipe(RedeemLinkBody)) body: RedeemLinkBody) {
    return this.shares.redeemAsGuest(body);
  }
}
