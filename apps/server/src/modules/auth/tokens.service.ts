import { Injectable } from '@nestjs/common';
import {
  AppError,
  type AuditActor,
  type CreatedToken,
  type CreateTokenBody,
  rooms,
  type TokenScope,
  type TokenView,
} from '@yoke/protocol';
import { PrincipalCache } from '../../core/auth/principal-cache';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { hashSecret, newSecret } from '../../core/tokens';
import { AuthRepository } from './auth.repository';
import type { Principal } from '../../core/auth/principal';

/** API tokens: random, shown once, stored hashed, scoped to one org and to `write` or `read`, expiring. */
@Injectable()
export class TokensService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly publisher: RealtimePublisher,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly principals: PrincipalCache,
  ) {}

  /**
   * Mints a token for a user, with `api_token.created` in the same transaction (the caller's, when it has one).
   * `actor` names who the audit log says created it when that is not the request's caller (a device login's poll).
   */
  async issue(
    orgId: string,
    userId: string,
    opts: { name: string; scope: TokenScope; ttlSeconds: number; kind?: string; actor?: AuditActor },
  ): Promise<CreatedToken> {
    const token = newSecret('ykt');
    const row = await this.tx.run(async () => {
      const created = await this.repo.createToken({
        orgId,
        userId,
        name: opts.name,
        tokenHash: hashSecret(token),
        expiresAt: new Date(Date.now() + opts.ttlSeconds * 1000),
        scope: opts.scope,
        kind: opts.kind ?? 'api',
      });
      await this.audit.record({
        orgId,
        action: 'api_token.created',
        target: { kind: 'api_token', id: created.id, name: created.name.slice(0, 500) },
        ...(opts.actor ? { actor: opts.actor } : {}),
        details: {
          userId,
          scope: created.scope,
          kind: created.kind,
          expiresAt: created.expiresAt?.toISOString() ?? null,
        },
      });
      return created;
    });
    return { ...tokenView(row), token };
  }

  /** A token for the caller; a read-only caller only mints read-only tokens. */
  create(p: Principal, body: CreateTokenBody): Promise<CreatedToken> {
    const scope = p.role === 'auditor' ? 'read' : body.scope;
    return this.issue(p.orgId, p.userId, { name: body.name, scope, ttlSeconds: body.ttlSeconds });
  }

  async list(p: Principal): Promise<TokenView[]> {
    return (await this.repo.listTokens(p.orgId, p.userId, new Date())).map(tokenView);
  }

  async revoke(p: Principal, id: string): Promise<void> {
    await this.tx.run(async () => {
      if (!(await this.repo.revokeToken(p.orgId, p.userId, id, new Date()))) {
        throw new AppError('token.not_found', 'no such token');
      }
      // The next request with it is refused here at once (other replicas: within PRINCIPAL_TTL_MS).
      this.tx.afterCommit(() => this.principals.invalidate());
      await this.audit.record({
        orgId: p.orgId,
        action: 'api_token.revoked',
        target: { kind: 'api_token', id },
        details: { userId: p.userId },
      });
    });
    this.publisher.disconnectWeb(rooms.apiToken(id));
  }
}

function tokenView(t: {
  id: string;
  name: string;
  scope: string;
  kind: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}): TokenView {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope === 'read' ? 'read' : 'write',
    kind: t.kind,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
  };
}
