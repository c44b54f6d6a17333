import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Me } from '@yoke/protocol';
import { Allow } from './access';

/** The authenticated human behind a request or a /web socket. Every query is scoped by its `orgId`. */
export type Principal = Me & {
  /** The membership role behind a read-only token (whose `role` is capped to auditor). */
  memberRole?: Me['role'];
  /** Set for a share-link guest: the credential opens this one session, with this role, and nothing else. */
  scope?: { sessionId: string; grantId: string; linkId: string | null; role: 'driver' | 'commenter' | 'viewer' };
};

/** How the principal was authenticated: cookie-authenticated writes need a CSRF token. */
export type PrincipalSource =
  | { kind: 'token'; tokenId: string }
  | { kind: 'cookie'; webSessionId: string }
  | { kind: 'guest'; grantId: string }
  | { kind: 'local' };

/** Marks a route that needs no user (health, runner enrolment: it carries its own one-time token). */
export const Public = () => Allow('public');

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!req.principal) throw new Error('CurrentPrincipal used on a public route');
  return req.principal;
});

export const CurrentSource = createParamDecorator((_: unknown, ctx: ExecutionContext): PrincipalSource | undefined => {
  return ctx.switchToHttp().getRequest<{ principalSource?: PrincipalSource }>().principalSource;
});
