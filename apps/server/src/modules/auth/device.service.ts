import { Inject, Injectable } from '@nestjs/common';
import {
  AppError,
  DEVICE_GRANT_TYPE,
  type DeviceCodeBody,
  type DeviceCodeReply,
  type DeviceDecisionBody,
  type DeviceTokenBody,
  type DeviceTokenError,
  type DeviceTokenReply,
  type DeviceView,
} from '@yoke/protocol';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { hashSecret, newSecret } from '../../core/tokens';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { newUserCode, normalizeUserCode } from './sign-in-rules';
import { decidePage, DEVICE_PAGE_PATH, signInPage } from './sign-in-pages';
import { OrgsRepository } from '../orgs/orgs.repository';
import type { Principal } from '../../core/auth/principal';
import { TokensService } from './tokens.service';

const DEVICE_TTL_SECONDS = 600;
const INTERVAL_SECONDS = 5;
const CLI_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export type DeviceTokenOutcome = { ok: true; body: DeviceTokenReply } | { ok: false; body: DeviceTokenError };

/**
 * The OAuth 2.0 device authorization grant (RFC 8628), served by Yoke for its CLI: the CLI gets a device code and a
 * user code, a signed-in person approves the user code in the browser, the CLI's poll receives an API token for that
 * person's org (scoped, expiring, stored hashed) exactly once.
 */
@Injectable()
export class DeviceService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly tokens: TokensService,
    private readonly auth: AuthService,
    private readonly orgs: OrgsRepository,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(body: DeviceCodeBody, origin: string): Promise<DeviceCodeReply> {
    // Housekeeping on the way: requests a day past their expiry are only dead weight.
    await this.repo.pruneDeviceAuthorizations(new Date(Date.now() - 24 * 3600_000));
    const deviceCode = newSecret('ykd');
    const userCode = newUserCode();
    await this.repo.createDeviceAuthorization({
      deviceCodeHash: hashSecret(deviceCode),
      userCode,
      clientName: (body.client_id ?? 'yoke-cli').slice(0, 100),
      scope: body.scope ?? 'write',
      intervalSeconds: INTERVAL_SECONDS,
      expiresAt: new Date(Date.now() + DEVICE_TTL_SECONDS * 1000),
    });
    const uri = `${this.config.publicUrl ?? origin}${DEVICE_PAGE_PATH}`;
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: uri,
      verification_uri_complete: `${uri}?code=${encodeURIComponent(userCode)}`,
      expires_in: DEVICE_TTL_SECONDS,
      interval: INTERVAL_SECONDS,
    };
  }

  /** The token endpoint: RFC 8628 §3.4-3.5 answers, errors as RFC 6749 §5.2 bodies. */
  async poll(body: DeviceTokenBody): Promise<DeviceTokenOutcome> {
    const err = (error: DeviceTokenError['error'], desc: string): DeviceTokenOutcome => ({
      ok: false,
      body: { error, error_description: desc },
    });
    if (body.grant_type !== DEVICE_GRANT_TYPE) return err('unsupported_grant_type', `use ${DEVICE_GRANT_TYPE}`);
    if (!body.device_code) return err('invalid_request', 'device_code is missing');
    const row = await this.repo.findDeviceByCode(hashSecret(body.device_code));
    if (!row) return err('invalid_grant', 'unknown device code');
    const now = new Date();
    if (row.status === 'issued') return err('invalid_grant', 'this device code was already used');
    if (row.status === 'denied') return err('access_denied', 'the request was denied');
    if (row.expiresAt <= now) return err('expired_token', 'the device code expired; run the login again');
    if (row.status === 'pending') {
      const tooSoon = row.lastPolledAt && now.getTime() - row.lastPolledAt.getTime() < row.intervalSeconds * 1000;
      const recorded = await this.repo.touchDevicePoll(row.id, row.lastPolledAt, now);
      if (tooSoon || !recorded) return err('slow_down', `poll at most every ${row.intervalSeconds} s`);
      return err('authorization_pending', 'waiting for the user to approve');
    }
    const { orgId, userId } = row;
    if (!orgId || !userId) return err('invalid_grant', 'this device code was already used');
    const scope = row.scope === 'read' ? 'read' : 'write';
    // Claimed, minted (with its audit event) and linked at once: a failure leaves the approval to be polled again.
    const token = await this.tx.run(async () => {
      if (!(await this.repo.claimDevice(row.id))) return null;
      const issued = await this.tokens.issue(orgId, userId, {
        name: `${row.clientName} (device login)`,
        scope,
        ttlSeconds: CLI_TOKEN_TTL_SECONDS,
        kind: 'cli',
        // The poll carries no credential: the token is the approving user's, minted on their behalf.
        actor: { kind: 'user', id: userId },
      });
      await this.repo.setDeviceToken(row.id, issued.id);
      return issued;
    });
    if (!token) return err('invalid_grant', 'this device code was already used');
    return {
      ok: true,
      body: { access_token: token.token, token_type: 'Bearer', expires_in: CLI_TOKEN_TTL_SECONDS, scope },
    };
  }

  /** The approval page: who is signed in (browser session, or embedded mode's local user) decides. */
  async page(userCode: string, headers: IncomingHttpHeaders): Promise<string> {
    let who: Principal;
    try {
      who = (await this.auth.authenticateHeaders(headers, { method: 'GET' })).principal;
    } catch {
      return signInPage(userCode);
    }
    const org = await this.orgs.getOrg(who.orgId);
    return decidePage({ email: who.email, org: org.slug }, await this.find(userCode), userCode);
  }

  /** The lookup for the approval page: null when there is no such live code. */
  async find(userCode: string): Promise<DeviceView | null> {
    const row = userCode ? await this.repo.findDeviceByUserCode(normalizeUserCode(userCode)) : null;
    return row && row.expiresAt > new Date() ? view(row) : null;
  }

  /** What the person is about to approve (the browser shows it next to the code they typed). */
  async lookup(userCode: string): Promise<DeviceView> {
    const row = await this.repo.findDeviceByUserCode(normalizeUserCode(userCode));
    if (!row || row.expiresAt <= new Date()) throw new AppError('token.not_found', 'no such code, or it expired');
    return view(row);
  }

  /** Approves (for the caller's org, as the caller) or denies; a read-only caller only grants read access. */
  async decide(p: Principal, body: DeviceDecisionBody): Promise<DeviceView> {
    if (p.scope) throw new AppError('auth.forbidden', 'a share-link credential cannot approve a device');
    const row = await this.repo.findDeviceByUserCode(normalizeUserCode(body.userCode));
    if (!row || row.expiresAt <= new Date()) throw new AppError('token.not_found', 'no such code, or it expired');
    if (body.approve && p.role === 'auditor' && row.scope !== 'read') {
      throw new AppError('auth.forbidden', 'an auditor can only approve a read-only login (yoke login --read-only)');
    }
    await this.tx.run(async () => {
      const decided = await this.repo.decideDevice(
        row.id,
        { orgId: p.orgId, userId: p.userId, approve: body.approve },
        new Date(),
      );
      if (!decided) throw new AppError('request.invalid', 'this code was already answered');
      await this.audit.record({
        orgId: p.orgId,
        action: 'auth.device_login',
        target: { kind: 'device_authorization', id: row.id, name: row.clientName },
        outcome: body.approve ? 'success' : 'denied',
        details: { decision: body.approve ? 'approved' : 'denied', client: row.clientName, scope: row.scope },
      });
    });
    return view({ ...row, status: body.approve ? 'approved' : 'denied' });
  }
}

function view(row: {
  userCode: string;
  clientName: string;
  scope: string;
  status: string;
  expiresAt: Date;
}): DeviceView {
  const status = ['pending', 'approved', 'denied', 'issued'].includes(row.status) ? row.status : 'pending';
  return {
    userCode: row.userCode,
    clientName: row.clientName,
    scope: row.scope === 'read' ? 'read' : 'write',
    status: status as DeviceView['status'],
    expiresAt: row.expiresAt.toISOString(),
  };
}
