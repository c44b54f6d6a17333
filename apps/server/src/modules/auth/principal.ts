import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Me } from '@yoke/protocol';

/** The authenticated human behind a request or a /web socket. Every query is scoped by its `orgId`. */
export type Principal = Me;

export const IS_PUBLIC = 'yoke:isPublic';
/** Marks a route that needs no user (health, runner enrolment: it carries its own one-time token). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!req.principal) throw new Error('CurrentPrincipal used on a public route');
  return req.principal;
});
