import { Injectable } from '@nestjs/common';
import { AppError } from '@yoke/protocol';
import { hashSecret } from '../../core/tokens';
import type { Principal } from '../../core/auth/principal';
import { AccessRepository } from './access.repository';

/** Prefix of the bearer credential a link guest gets: it opens one session, nothing else. */
export const GUEST_CREDENTIAL_PREFIX = 'ykg';

export function isGuestCredential(token: string): boolean {
  return token.startsWith(`${GUEST_CREDENTIAL_PREFIX}_`);
}

/** Resolves a link guest's credential while its grant and link are live (not revoked, not expired). */
@Injectable()
export class GuestCredentials {
  constructor(private readonly repo: AccessRepository) {}

  async authenticate(token: string, now = new Date()): Promise<Principal> {
    const found = await this.repo.findGuestGrant(hashSecret(token));
    if (!found || found.link.revokedAt || (found.link.expiresAt && found.link.expiresAt <= now)) {
      throw new AppError('auth.invalid_token', 'this share link was revoked or has expired');
    }
    const { grant, link } = found;
    return {
      userId: grant.id,
      orgId: grant.orgId,
      name: grant.guestName ?? 'Guest',
      email: '',
      role: 'auditor',
      scope: { sessionId: grant.sessionId, grantId: grant.id, linkId: link.id, role: grant.role },
    };
  }
}
