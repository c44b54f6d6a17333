import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import { AppError } from '@yoke/protocol';
import type { Request } from 'express';
import { toAckError } from '../../core/errors/ws-ack';
import { GUEST_ALLOWED } from '../../core/auth/guest-allowed';
import { ACCESS_RULE, type AccessRule, admits } from '../../core/auth/access';
import { AuthService } from './auth.service';
import type { Principal, PrincipalSource } from '../../core/auth/principal';

type AuthedRequest = Request & { principal?: Principal; principalSource?: PrincipalSource };
type SocketData = { principal?: Principal; runner?: unknown };

/**
 * Global guard for every REST route and socket event: the handler's @Allow rule decides. A handler without a rule
 * is refused (fail closed) and the authorization matrix test names it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    const where = `${ctx.getClass().name}.${ctx.getHandler().name}`;
    const guestAllowed =
      this.reflector.getAllAndOverride<boolean | undefined>(GUEST_ALLOWED, [ctx.getHandler(), ctx.getClass()]) === true;
    if (ctx.getType() === 'ws') return this.socket(ctx, rule, where, guestAllowed);
    if (ctx.getType() !== 'http') return true;
    if (!rule) {
      this.logger.error({ handler: where }, 'a route without an @Allow rule was refused');
      throw new AppError('auth.forbidden', 'this route declares no access rule');
    }
    if (rule === 'public') return true;
    if (rule === 'runner') throw new AppError('auth.forbidden', 'runners use the /runner socket');
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const { principal, source } = await this.auth.authenticateHeaders(req.headers, { method: req.method });
    req.principal = principal;
    req.principalSource = source;
    if (principal.scope) {
      // A link guest: only the routes marked for guests; the session and its role are checked there.
      if (!guestAllowed) throw GUEST_REFUSED();
      return true;
    }
    if (!admits(rule, principal.role, principal.memberRole)) throw forbidden(rule);
    return true;
  }

  /** Socket events answer a refusal in their ack, like every other socket error. */
  private socket(ctx: ExecutionContext, rule: AccessRule | undefined, where: string, guestAllowed: boolean): boolean {
    const data = (ctx.switchToWs().getClient<{ data?: SocketData }>().data ?? {}) as SocketData;
    let refusal: AppError | null = null;
    if (!rule) {
      this.logger.error({ handler: where }, 'a socket event without an @Allow rule was refused');
      refusal = new AppError('auth.forbidden', 'this event declares no access rule');
    } else if (rule === 'runner') {
      if (!data.runner) refusal = new AppError('auth.forbidden', 'only runners send this event');
    } else if (rule !== 'public') {
      if (!data.principal) refusal = new AppError('auth.unauthenticated', 'sign in first');
      else if (data.principal.scope) refusal = guestAllowed ? null : GUEST_REFUSED();
      else if (!admits(rule, data.principal.role, data.principal.memberRole)) refusal = forbidden(rule);
    }
    if (!refusal) return true;
    const ack = ctx.getArgs()[2] as unknown;
    if (typeof ack === 'function') (ack as (r: unknown) => void)(toAckError(refusal));
    throw new WsException(refusal.toBody());
  }
}

const GUEST_REFUSED = () =>
  new AppError('auth.forbidden', 'a share link opens its one session only; sign in to do more');

function forbidden(rule: AccessRule): AppError {
  if (rule === 'audit') return new AppError('auth.forbidden', 'the audit log is for owners, admins and auditors');
  return new AppError('auth.forbidden', `this needs the ${rule} role or higher in the org`);
}
