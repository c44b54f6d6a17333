import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@yoke/protocol';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { hashSecret } from '../../core/tokens';
import { LocalIdentity } from '../orgs/local-identity';
import { AuthRepository } from './auth.repository';
import type { Principal } from './principal';

@Injectable()
export class AuthService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly local: LocalIdentity,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Resolves the caller: a bearer API token, or, in embedded mode only (loopback, single user), the local user
   * when no token is given. A token that is given but invalid is always refused, in every mode.
   */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token) {
      if (this.config.embedded) return this.local.principal();
      throw new AppError('auth.unauthenticated', 'an API token is required (Authorization: Bearer <token>)');
    }
    const found = await this.repo.findActiveToken(hashSecret(token), new Date());
    if (!found) throw new AppError('auth.invalid_token', 'the API token is invalid, expired or revoked');
    return {
      userId: found.user.id,
      orgId: found.token.orgId,
      name: found.user.name,
      email: found.user.email,
      role: found.role,
    };
  }
}

export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
