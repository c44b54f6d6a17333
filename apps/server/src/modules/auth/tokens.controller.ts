import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { AppError, CreateTokenBody } from '@yoke/protocol';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { TokensService } from './tokens.service';

// eslint-disable-next-line no-useless-assignment -- used by the @Param decorators below
const TokenId = new ParseUUIDPipe({ exceptionFactory: () => new AppError('token.not_found', 'no such token') });

/** The caller's own API tokens in the current org. */
@Controller('tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Allow('auditor')
  @NotAudited("a read of the caller's own tokens")
  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.tokens.list(p);
  }

  @Allow('auditor')
  @Audited('api_token.created')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(CreateTokenBody)) body: CreateTokenBody) {
    return this.tokens.create(p, body);
  }

  @Allow('auditor')
  @Audited('api_token.revoked')
  @Delete(':id')
  @HttpCode(204)
  revoke(@CurrentPrincipal() p: Principal, @Param('id', TokenId) id: string) {
    return this.tokens.revoke(p, id);
  }
}
