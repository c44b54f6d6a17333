import { Inject, Injectable } from '@nestjs/common';
import { AppError, CSRF_HEADER, SESSION_COOKIE } from '@yoke/protocol';
import { timingSafeEqual } from 'node:crypto';
import { LOCAL_COOKIE, localCookieValue, safeEqual } from '../../core/http/local-credential';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { hashSecret } from '../../core/tokens';
import { GuestCredentials, isGuestCredential } from '../access/guest-credentials';
import { LocalIdentity } from '../orgs/local-identity';
import { effectiveRole } from '../../core/auth/access';
import { AuthRepository } from './auth.repository';
import type { Principal, PrincipalSource } from '../../core/auth/principal';
import { parseCookies, SecretBox } from '../../core/auth/secret-box';
import { PrincipalCache } from '../../core/auth/principal-cache';

export type Authenticated = { principal: Principal; source: PrincipalSource };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

@Injectable()
export class AuthService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly local: LocalIdentity,
    private readonly box: SecretBox,
    private readonly guests: GuestCredentials,
    private readonly principals: PrincipalCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Resolves the caller of a bearer token: an API token, a share-link guest credential or, in embedded mode, the
   * local secret. A token that is given but invalid is always refused, in every mode. A live API token is resolved
   * from the database at most once per `PRINCIPAL_TTL_MS` (PrincipalCache).
   */
  async authenticate(token: string | undefined): Promise<Principal> {
    return (await this.fromToken(token)).principal;
  }

  /**
   * Resolves the caller of a request or socket handshake: bearer token first, then the signed session cookie, then
   * (embedded mode) the local user's cookie. Cookie-authenticated writes must carry the CSRF token (team mode) or come
   * from this server's own origin (checked for every write before it reaches here).
   */
  async authenticateHeaders(
    headers: IncomingHttpHeaders,
    opts: { token?: string; method?: string } = {},
  ): Promise<Authenticated> {
    const token = opts.token ?? bearerToken(headers.authorization);
    if (token) return this.fromToken(token);
    const cookies = parseCookies(headers.cookie);
    const local = this.config.localSecret;
    if (local && cookies[LOCAL_COOKIE] && safeEqual(cookies[LOCAL_COOKIE], localCookieValue(local))) {
      return { principal: this.local.principal(), source: { kind: 'local' } };
    }
    const cookie = cookies[SESSION_COOKIE];
    if (cookie) {
      const secret = this.box.unsign(cookie);
      const found = secret ? await this.repo.findActiveWebSession(hashSecret(secret), new Date()) : null;
      if (found) {
        const source: PrincipalSource = { kind: 'cookie', webSessionId: found.session.id };
        if (opts.method && !SAFE_METHODS.has(opts.method.toUpperCase())) this.checkCsrf(source, headers);
        return {
          principal: {
            userId: found.user.id,
            orgId: found.session.orgId,
            name: found.user.name,
            email: found.user.email,
            role: found.role,
          },
          source,
        };
      }
      if (!this.config.embedded) throw new AppError('auth.unauthenticated', 'the session has ended; sign in again');
    }
    return this.fromToken(undefined);
  }

  /** The CSRF token of a browser session: an HMAC of its id, set as a readable cookie at sign-in. */
  csrfToken(webSessionId: string): string {
    return this.box.mac(`csrf:${webSessionId}`);
  }

  private checkCsrf(source: { webSessionId: string }, headers: IncomingHttpHeaders): void {
    const raw = headers[CSRF_HEADER];
    const given = Buffer.from(String(Array.isArray(raw) ? raw[0] : (raw ?? '')));
    const expected = Buffer.from(this.csrfToken(source.webSessionId));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('auth.csrf_failed', `a write from a browser session needs the ${CSRF_HEADER} header`);
    }
  }

  private async fromToken(token: string | undefined): Promise<Authenticated> {
    if (!token) {
      if (this.config.localSecret) {
        throw new AppError(
          'auth.unauthenticated',
          'this Yoke needs its local credential: open the link `yoke start` printed, or run `yoke open`',
        );
      }
      throw new AppError('auth.unauthenticated', 'sign in, or send an API token (Authorization: Bearer <token>)');
    }
    const local = this.config.localSecret;
    if (local && safeEqual(token, local)) return { principal: this.local.principal(), source: { kind: 'local' } };
    if (isGuestCredential(token)) {
      // A share-link guest: one session, the link's role, while the link and the grant live.
      const principal = await this.guests.authenticate(token);
      return { principal, source: { kind: 'guest', grantId: principal.scope!.grantId } };
    }
    const tokenHash = hashSecret(token);
    const cached = this.principals.get(tokenHash);
    if (cached) return cached;
    const generation = this.principals.generation;
    const found = await this.repo.findActiveToken(tokenHash, new Date());
    if (!found) throw new AppError('auth.invalid_token', 'the API token is invalid, expired or revoked');
    const resolved: Authenticated = {
      principal: {
        userId: found.user.id,
        orgId: found.token.orgId,
        name: found.user.name,
        email: found.user.email,
        role: effectiveRole(found.role, found.token.scope === 'read' ? 'read' : 'write'),
        memberRole: found.role,
      },
      source: { kind: 'token', tokenId: found.token.id },
    };
    this.principals.set(tokenHash, resolved, generation, found.token.expiresAt);
    return resolved;
  }
}

export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
