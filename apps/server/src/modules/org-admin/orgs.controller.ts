import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put } from '@nestjs/common';
import { AppError, CreateInvitationBody, CreateOrgBody, SsoConfigBody, UpdateMemberBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { RequestOrigin } from '../../core/http/request-origin';
import { OrgsService } from './orgs.service';

const UserId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('member.not_found', 'no such member') });
const InvitationId = new ParseUUIDPipe({
  exceptionFactory: () => new AppError('invitation.not_found', 'no such invitation'),
});

/** The caller, their org (the one their token or session is for), its members, invitations and single sign-on. */
@Controller()
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Allow('auditor')
  @NotAudited("a read of the caller's own identity")
  @Get('me')
  me(@CurrentPrincipal() p: Principal) {
    return this.orgs.me(p);
  }

  @Allow('auditor')
  @NotAudited("a read of the caller's own org")
  @Get('org')
  current(@CurrentPrincipal() p: Principal) {
    return this.orgs.current(p);
  }

  /** Any signed-in user may found an org; they become its owner. */
  @Allow('auditor')
  @Audited('org.created', 'api_token.created')
  @Post('orgs')
  create(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateOrgBody)) body: CreateOrgBody) {
    return this.orgs.create(p, body);
  }

  @Allow('auditor')
  @NotAudited("a read of the caller's own org's member list")
  @Get('org/members')
  members(@CurrentPrincipal() p: Principal) {
    return this.orgs.members(p);
  }

  @Allow('admin')
  @Audited('member.role_changed')
  @Patch('org/members/:userId')
  setRole(
    @CurrentPrincipal() p: Principal,
    @Param('userId', UserId) userId: string,
    @Body(new ZodPipe(UpdateMemberBody)) body: UpdateMemberBody,
  ) {
    return this.orgs.setRole(p, userId, body.role);
  }

  @Allow('admin')
  @Audited('member.removed')
  @Delete('org/members/:userId')
  @HttpCode(204)
  remove(@CurrentPrincipal() p: Principal, @Param('userId', UserId) userId: string) {
    return this.orgs.remove(p, userId);
  }

  @Allow('admin')
  @NotAudited('a read of the open invitations')
  @Get('org/invitations')
  invitations(@CurrentPrincipal() p: Principal, @RequestOrigin() origin: string) {
    return this.orgs.invitations(p, origin);
  }

  @Allow('admin')
  @Audited('member.invited')
  @Post('org/invitations')
  invite(
    @CurrentPrincipal() p: Principal,
    @Body(new ZodPipe(CreateInvitationBody)) body: CreateInvitationBody,
    @RequestOrigin() origin: string,
  ) {
    return this.orgs.invite(p, body, origin);
  }

  @Allow('admin')
  @Audited('invitation.revoked')
  @Delete('org/invitations/:id')
  @HttpCode(204)
  revokeInvitation(@CurrentPrincipal() p: Principal, @Param('id', InvitationId) id: string) {
    return this.orgs.revokeInvitation(p, id);
  }

  @Allow('admin')
  @NotAudited('a read of the single sign-on settings (the client secret is never shown)')
  @Get('org/sso')
  sso(@CurrentPrincipal() p: Principal, @RequestOrigin() origin: string) {
    return this.orgs.sso(p, origin);
  }

  @Allow('admin')
  @Audited('sso.updated')
  @Put('org/sso')
  setSso(
    @CurrentPrincipal() p: Principal,
    @Body(new ZodPipe(SsoConfigBody)) body: SsoConfigBody,
    @RequestOrigin() origin: string,
  ) {
    return this.orgs.setSso(p, body, origin);
  }

  @Allow('admin')
  @Audited('sso.removed')
  @Delete('org/sso')
  @HttpCode(204)
  deleteSso(@CurrentPrincipal() p: Principal) {
    return this.orgs.deleteSso(p);
  }
}
