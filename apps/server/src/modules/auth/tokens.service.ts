import { Injectable } from '@nestjs/common';
import {
  AppError,
  type CreatedToken,
  type CreateTokenBody,
  rooms,
  type TokenScope,
  type TokenView,
} from '@yoke/protocol';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { hashSecret, newSecret } from '../../core/tokens';
import { AuthRepository } from './auth.repository';
import type { Principal } from '../../core/auth/principal';

/** API tokens: random, shown once, stored hashed, scoped to one org and to `write` or `read`, expiring. */
@Injectable()
export class TokensService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly publisher: RealtimePublisher,
  ) {}

  async issue(
    orgId: string,
    userId: string,
    opts: { name: string; scope: TokenScope; ttlSeconds: number; kind?: string },
  ): Promise<CreatedToken> {
    const token = newSecret('ykt');
    const row = await this.repo.createToken({
      orgId,
      userId,
      name: opts.name,
      tokenHash: hashSecret(token),
      expiresAt: new Date(Date.now() + opts.ttlSeconds * 1000),
      scope: opts.scope,
      kind: opts.kind ?? 'api',
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
    if (!(await this.repo.revokeToken(p.orgId, p.userId, id, new Date()))) {
      throw new AppError('token.not_found', 'no such token');
    }
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
