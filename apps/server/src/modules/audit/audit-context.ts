import { AsyncLocalStorage } from 'node:async_hooks';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { AuditActor } from '@yoke/protocol';
import { Observable } from 'rxjs';
import type { Principal, PrincipalSource } from '../../core/auth/principal';

/** Who is acting and from where: what every audit event of a request or socket event carries. */
export type AuditOrigin = {
  actor: AuditActor | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
};

/** The origin of the request or socket event being handled, for the audit events its services record. */
@Injectable()
export class AuditContext {
  private readonly store = new AsyncLocalStorage<AuditOrigin>();

  current(): AuditOrigin | undefined {
    return this.store.getStore();
  }

  run<T>(origin: AuditOrigin, fn: () => T): T {
    return this.store.run(origin, fn);
  }
}

/** The actor a principal acts as: a guest by its grant, a token holder as the token on behalf of its user. */
export function actorOf(principal: Principal, source?: PrincipalSource): AuditActor {
  if (principal.scope) {
    return { kind: 'guest', id: principal.scope.grantId, name: principal.name };
  }
  if (source?.kind === 'token') {
    return { kind: 'token', id: source.tokenId, name: principal.email, onBehalfOf: principal.userId };
  }
  return { kind: 'user', id: principal.userId, name: principal.email };
}

type HttpRequest = {
  id?: unknown;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
  principalSource?: PrincipalSource;
};
type SocketClient = {
  id: string;
  handshake?: { address?: string; headers?: Record<string, string | string[] | undefined> };
  data?: { principal?: Principal; source?: PrincipalSource; runner?: { runnerId: string; name?: string } };
};

/** Sets the audit origin of every REST call and socket event from its request, after the guard authenticated it. */
@Injectable()
export class AuditContextInterceptor implements NestInterceptor {
  constructor(private readonly context: AuditContext) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const origin = this.originOf(ctx);
    if (!origin) return next.handle();
    return new Observable((subscriber) => this.context.run(origin, () => next.handle().subscribe(subscriber)));
  }

  private originOf(ctx: ExecutionContext): AuditOrigin | null {
    if (ctx.getType() === 'http') {
      const req = ctx.switchToHttp().getRequest<HttpRequest>();
      return {
        actor: req.principal ? actorOf(req.principal, req.principalSource) : null,
        requestId: typeof req.id === 'string' ? req.id : null,
        ip: req.ip ?? null,
        userAgent: header(req.headers['user-agent']),
      };
    }
    if (ctx.getType() === 'ws') {
      const client = ctx.switchToWs().getClient<SocketClient>();
      const data = client.data ?? {};
      const actor: AuditActor | null = data.principal
        ? actorOf(data.principal, data.source)
        : data.runner
          ? { kind: 'runner', id: data.runner.runnerId, ...(data.runner.name ? { name: data.runner.name } : {}) }
          : null;
      return {
        actor,
        requestId: `socket:${client.id}`,
        ip: client.handshake?.address ?? null,
        userAgent: header(client.handshake?.headers?.['user-agent']),
      };
    }
    return null;
  }
}

function header(v: string | string[] | undefined): string | null {
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.slice(0, 1000) : null;
}
