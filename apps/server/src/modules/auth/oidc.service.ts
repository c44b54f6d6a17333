import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError, CSRF_COOKIE, OrgSlug, rooms, SESSION_COOKIE } from '@yoke/protocol';
import type { Request } from 'express';
import * as client from 'openid-client';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { PrincipalCache } from '../../core/auth/principal-cache';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { Transactions } from '../../core/prisma/transactions';
import { type AuditEntry, AuditTrail } from '../audit/audit-trail.service';
import { hashSecret, newSecret } from '../../core/tokens';
import { OrgsRepository } from '../orgs/orgs.repository';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { clearCookie, setCookie } from './cookies';
import { type OidcClaims, type OidcPending, runOidc } from './oidc.strategy';
import type { Principal, PrincipalSource } from '../../core/auth/principal';
import { parseCookies, SecretBox } from '../../core/auth/secret-box';
import { safeReturnTo } from './sign-in-rules';

/** The pending sign-in cookie: sealed (AES-GCM), scoped to the callback path, ten minutes. */
export const PENDING_COOKIE = 'yoke_oidc';
const PENDING_TTL_SECONDS = 600;
const WEB_SESSION_TTL_SECONDS = 12 * 3600;
const DISCOVERY_TTL_MS = 5 * 60_000;
const PRUNE_AFTER_MS = 24 * 3600_000;
const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

type Sealed = OidcPending & { orgId: string; returnTo: string; exp: number };

/** What the controller does with the browser: set these cookies, then redirect there. */
export type BrowserReply = { cookies: string[]; redirect: string };

/**
 * OpenID Connect single sign-on per org (authorization code + PKCE, nonce and state, through passport), just-in-time
 * provisioning, and the signed browser session that follows. Every refusal says why and signs nobody in.
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger(OidcService.name);
  private readonly discovered = new Map<string, { at: number; config: Promise<client.Configuration> }>();

  constructor(
    private readonly orgs: OrgsRepository,
    private readonly repo: AuthRepository,
    private readonly auth: AuthService,
    private readonly box: SecretBox,
    private readonly publisher: RealtimePublisher,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly principals: PrincipalCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** First leg: the org's provider, with a fresh state, nonce and PKCE verifier. */
  async start(orgSlug: string | undefined, returnTo: string | undefined, origin: string, req: Request) {
    if (!this.box.isConfigured) throw new AppError('auth.sso_not_configured', 'sign-in needs YOKE_SECRET_KEY');
    if (!orgSlug) throw new AppError('request.invalid', 'say which org to sign in to: ?org=<slug>');
    // A name that cannot be a slug names no org (and never reaches the database).
    const org = OrgSlug.safeParse(orgSlug).success ? await this.orgs.findOrgBySlug(orgSlug) : null;
    if (!org) throw new AppError('org.not_found', `there is no org "${orgSlug.slice(0, 63)}"`);
    const sso = await this.orgs.findSso(org.id);
    if (!sso) throw new AppError('auth.sso_not_configured', `the org "${orgSlug}" has no single sign-on configured`);
    const oidc = await this.discover(sso);
    const state = client.randomState();
    const now = Date.now();
    // Housekeeping on the way: states a day past their expiry are only dead weight.
    await this.orgs.pruneOidcStates(new Date(now - PRUNE_AFTER_MS));
    await this.orgs.saveOidcState({
      stateHash: hashSecret(state),
      orgId: org.id,
      expiresAt: new Date(now + PENDING_TTL_SECONDS * 1000),
    });
    const out = await runOidc(oidc, { callbackUrl: this.callbackUrl(origin), state }, req);
    if (!('redirect' in out)) throw new Error('the first sign-in leg returned claims');
    const sealed: Sealed = {
      ...out.pending,
      orgId: org.id,
      returnTo: safeReturnTo(returnTo),
      exp: now + PENDING_TTL_SECONDS * 1000,
    };
    return {
      cookies: [
        setCookie(PENDING_COOKIE, this.box.encrypt(JSON.stringify(sealed)), {
          maxAgeSeconds: PENDING_TTL_SECONDS,
          secure: this.secure(origin),
          path: CALLBACK_PATH,
        }),
      ],
      redirect: out.redirect,
    };
  }

  /**
   * Second leg: checks the provider's answer, provisions the user and opens a browser session, with `auth.sign_in`
   * in the same transaction. A refusal of a sign-in that started here (so its org is known) is recorded as
   * `auth.sign_in_failed`, on its own.
   */
  async callback(query: Record<string, unknown>, origin: string, req: Request): Promise<BrowserReply> {
    const pending = this.unseal(parseCookies(req.headers.cookie)[PENDING_COOKIE]);
    const attempt: { email?: string } = {};
    try {
      return await this.signIn(query, origin, req, pending, attempt);
    } catch (err) {
      if (pending && err instanceof AppError && err.code === 'auth.login_failed') {
        await this.audit.record({
          orgId: pending.orgId,
          action: 'auth.sign_in_failed',
          target: { kind: 'org', id: pending.orgId },
          outcome: 'failed',
          actor: attempt.email
            ? { kind: 'user', id: attempt.email.slice(0, 200), name: attempt.email }
            : { kind: 'user', id: 'unknown' },
          details: { method: 'oidc', reason: err.message.slice(0, 1000) },
        });
      }
      throw err;
    }
  }

  private async signIn(
    query: Record<string, unknown>,
    origin: string,
    req: Request,
    pending: Sealed | null,
    attempt: { email?: string },
  ): Promise<BrowserReply> {
    const clear = this.clearPending(origin);
    const fail = (message: string) => new AppError('auth.login_failed', message);
    const state = typeof query.state === 'string' ? query.state : '';
    if (typeof query.error === 'string') {
      const desc = typeof query.error_description === 'string' ? `: ${query.error_description}` : '';
      throw fail(`the identity provider refused the sign-in (${query.error}${desc})`);
    }
    if (!pending) throw fail('this sign-in attempt expired or did not start in this browser; start again');
    if (!state || state !== pending.state) throw fail('the sign-in state does not match; start again');
    // One use only, and not after it expires: a replayed or stale callback is refused before the code is spent.
    const orgId = await this.orgs.consumeOidcState(hashSecret(state), new Date());
    if (!orgId || orgId !== pending.orgId) {
      throw fail('this sign-in attempt has expired or was already used; start again');
    }
    const sso = await this.orgs.findSso(orgId);
    if (!sso) throw fail('the org no longer has single sign-on configured');
    let claims: OidcClaims;
    try {
      const out = await runOidc(await this.discover(sso), { callbackUrl: this.callbackUrl(origin), pending }, req);
      if (!('claims' in out)) throw new Error('the callback leg asked for another redirect');
      claims = out.claims;
    } catch (err) {
      const message = describe(err);
      this.logger.warn({ orgId, err: message }, 'an OIDC sign-in was refused');
      throw fail(`the identity provider's answer was refused: ${message}`);
    }
    const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : '';
    if (!email) throw fail('the identity provider did not share an email address (scope "email")');
    attempt.email = email;
    if (claims.email_verified === false) throw fail(`the email ${email} is not verified at the identity provider`);
    const domain = email.slice(email.lastIndexOf('@') + 1);
    const now = new Date();
    const invitation = await this.orgs.findOpenInvitation(orgId, email, now);
    const domainAllowed = (sso.allowedDomains as string[]).includes(domain);
    const name = typeof claims.name === 'string' && claims.name ? claims.name : email.split('@')[0];
    const joinAs = invitation?.role ?? (domainAllowed ? sso.defaultRole : null);
    if (!invitation && !domainAllowed) {
      throw fail(`the email domain "${domain}" is not allowed to sign in to this org`);
    }
    const secret = newSecret('yks');
    const session = await this.tx.run(async () => {
      const member = await this.orgs.provision(
        orgId,
        { issuer: claims.iss, subject: claims.sub, email, name },
        joinAs,
        invitation?.id ?? null,
        now,
      );
      if (!member) throw fail(`${email} is not a member of this org`);
      const web = await this.repo.createWebSession({
        orgId,
        userId: member.user.id,
        tokenHash: hashSecret(secret),
        expiresAt: new Date(now.getTime() + WEB_SESSION_TTL_SECONDS * 1000),
      });
      const actor = { kind: 'user' as const, id: member.user.id, name: email };
      const events: AuditEntry[] = [
        {
          orgId,
          action: 'auth.sign_in',
          target: { kind: 'web_session', id: web.id },
          actor,
          details: { method: 'oidc', issuer: claims.iss, role: member.role },
        },
      ];
      // The invitation was used when it is no longer the open one (provision accepts it as the user joins).
      if (invitation && (await this.orgs.findOpenInvitation(orgId, email, now))?.id !== invitation.id) {
        events.push({
          orgId,
          action: 'invitation.accepted',
          target: { kind: 'invitation', id: invitation.id, name: email },
          actor,
          details: { role: invitation.role },
        });
      }
      await this.audit.record(...events);
      return web;
    });
    const secure = this.secure(origin);
    return {
      cookies: [
        clear,
        setCookie(SESSION_COOKIE, this.box.sign(secret), { maxAgeSeconds: WEB_SESSION_TTL_SECONDS, secure }),
        setCookie(CSRF_COOKIE, this.auth.csrfToken(session.id), {
          maxAgeSeconds: WEB_SESSION_TTL_SECONDS,
          secure,
          httpOnly: false,
        }),
      ],
      redirect: `${this.base(origin)}${pending.returnTo}`,
    };
  }

  /** Ends the caller's own credential: the browser session (cookies cleared) or the API token. */
  async logout(p: Principal, source: PrincipalSource | undefined, origin: string): Promise<string[]> {
    const { orgId } = p;
    await this.tx.run(async () => {
      if (source?.kind === 'cookie') await this.repo.revokeWebSession(orgId, source.webSessionId, new Date());
      if (source?.kind === 'token') {
        await this.repo.revokeTokenById(orgId, source.tokenId, new Date());
        this.tx.afterCommit(() => this.principals.invalidate());
      }
      await this.audit.record({
        orgId,
        action: 'auth.sign_out',
        target:
          source?.kind === 'cookie'
            ? { kind: 'web_session', id: source.webSessionId }
            : source?.kind === 'token'
              ? { kind: 'api_token', id: source.tokenId }
              : { kind: 'user', id: p.userId },
        details: { credential: source?.kind ?? null },
      });
    });
    if (source?.kind === 'cookie') this.publisher.disconnectWeb(rooms.webSession(source.webSessionId));
    if (source?.kind === 'token') this.publisher.disconnectWeb(rooms.apiToken(source.tokenId));
    const secure = this.secure(origin);
    return [clearCookie(SESSION_COOKIE, { secure }), clearCookie(CSRF_COOKIE, { secure, httpOnly: false })];
  }

  /** Forgets the pending sign-in (on success and on every refusal). */
  clearPending(origin: string): string {
    return clearCookie(PENDING_COOKIE, { secure: this.secure(origin), path: CALLBACK_PATH });
  }

  private unseal(raw: string | undefined): Sealed | null {
    if (!raw) return null;
    try {
      const v = JSON.parse(this.box.decrypt(raw)) as Sealed;
      return typeof v.exp === 'number' && v.exp > Date.now() && typeof v.code_verifier === 'string' ? v : null;
    } catch {
      return null;
    }
  }

  private discover(sso: { issuer: string; clientId: string; clientSecretEnc: string }): Promise<client.Configuration> {
    const key = createHash('sha256').update(`${sso.issuer}\n${sso.clientId}\n${sso.clientSecretEnc}`).digest('hex');
    const hit = this.discovered.get(key);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.config;
    const issuer = new URL(sso.issuer);
    const insecure = issuer.protocol === 'http:';
    const config = client
      .discovery(
        issuer,
        sso.clientId,
        this.box.decrypt(sso.clientSecretEnc),
        undefined,
        insecure ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.discovered.delete(key);
        const message = err instanceof Error ? err.message : String(err);
        throw new AppError('auth.login_failed', `the identity provider ${sso.issuer} could not be reached: ${message}`);
      });
    this.discovered.set(key, { at: Date.now(), config });
    return config;
  }

  private base(origin: string): string {
    return this.config.publicUrl ?? origin;
  }

  private callbackUrl(origin: string): string {
    return `${this.base(origin)}${CALLBACK_PATH}`;
  }

  private secure(origin: string): boolean {
    return this.base(origin).startsWith('https:');
  }
}

/** openid-client's reason, with the claim it compared when that is the problem (aud, iss, nonce...). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== err.message) return `${err.message}: ${cause.message}`;
  return err.message;
}
