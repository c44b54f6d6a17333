import { Injectable } from '@nestjs/common';
import type { OrgRole } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

const TOUCH_EVERY_MS = 60_000;

type ActiveTokenRow = {
  id: string;
  orgId: string;
  userId: string;
  scope: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  name: string;
  email: string;
  role: OrgRole;
};

type ActiveWebSessionRow = {
  id: string;
  orgId: string;
  userId: string;
  expiresAt: Date;
  name: string;
  email: string;
  role: OrgRole;
};

@Injectable()
export class AuthRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  /**
   * A live API token with its user and that user's role in the token's org, in one statement (the token by its unique
   * hash, joined to its user and membership): nothing for a revoked, expired or unknown token or a holder who left.
   */
  async findActiveToken(tokenHash: string, now: Date) {
    const [row] = await this.prisma.$queryRaw<ActiveTokenRow[]>`
      SELECT t.id, t.org_id AS "orgId", t.user_id AS "userId", t.scope, t.expires_at AS "expiresAt",
             t.last_used_at AS "lastUsedAt", u.name, u.email, m.role::text AS role
      FROM api_tokens t
      JOIN users u ON u.id = t.user_id
      JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id
      WHERE t.token_hash = ${tokenHash} AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ${now})`;
    if (!row) return null;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await this.prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
    }
    const { name, email, role, ...token } = row;
    return { token, user: { id: row.userId, name, email }, role };
  }

  async createToken(data: {
    orgId: string;
    userId: string;
    name: string;
    tokenHash: string;
    expiresAt?: Date;
    scope?: string;
    kind?: string;
  }) {
    return this.prisma.apiToken.create({ data });
  }

  listTokens(orgId: string, userId: string, now: Date) {
    return this.prisma.apiToken.findMany({
      where: { orgId, userId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** Revokes one of the user's tokens in the org; false when there is no such live token. */
  async revokeToken(orgId: string, userId: string, id: string, now: Date): Promise<boolean> {
    const r = await this.prisma.apiToken.updateMany({
      where: { orgId, userId, id, revokedAt: null },
      data: { revokedAt: now },
    });
    return r.count === 1;
  }

  /** Revokes a token by id in an org, whoever holds it (the caller's own, at logout). */
  async revokeTokenById(orgId: string, id: string, now: Date): Promise<void> {
    await this.prisma.apiToken.updateMany({ where: { orgId, id, revokedAt: null }, data: { revokedAt: now } });
  }

  createWebSession(data: { orgId: string; userId: string; tokenHash: string; expiresAt: Date }) {
    return this.prisma.webSession.create({ data });
  }

  /** A live browser session with its user and that user's current role in the session's org, in one statement. */
  async findActiveWebSession(tokenHash: string, now: Date) {
    const [row] = await this.prisma.$queryRaw<ActiveWebSessionRow[]>`
      SELECT w.id, w.org_id AS "orgId", w.user_id AS "userId", w.expires_at AS "expiresAt", u.name, u.email,
             m.role::text AS role
      FROM web_sessions w
      JOIN users u ON u.id = w.user_id
      JOIN memberships m ON m.org_id = w.org_id AND m.user_id = w.user_id
      WHERE w.token_hash = ${tokenHash} AND w.revoked_at IS NULL AND w.expires_at > ${now}`;
    if (!row) return null;
    const { name, email, role, ...session } = row;
    return { session, user: { id: row.userId, name, email }, role };
  }

  async revokeWebSession(orgId: string, id: string, now: Date): Promise<void> {
    await this.prisma.webSession.updateMany({ where: { orgId, id, revokedAt: null }, data: { revokedAt: now } });
  }

  createDeviceAuthorization(data: {
    deviceCodeHash: string;
    userCode: string;
    clientName: string;
    scope: string;
    intervalSeconds: number;
    expiresAt: Date;
  }) {
    return this.prisma.deviceAuthorization.create({ data });
  }

  findDeviceByCode(deviceCodeHash: string) {
    return this.prisma.deviceAuthorization.findUnique({ where: { deviceCodeHash } });
  }

  findDeviceByUserCode(userCode: string) {
    return this.prisma.deviceAuthorization.findUnique({ where: { userCode } });
  }

  /** Records a poll; false when another poll came in since `lastPolledAt` (the caller answers slow_down). */
  async touchDevicePoll(id: string, lastPolledAt: Date | null, now: Date): Promise<boolean> {
    const r = await this.prisma.deviceAuthorization.updateMany({
      where: { id, lastPolledAt },
      data: { lastPolledAt: now },
    });
    return r.count === 1;
  }

  /** Decides a pending request once: approved for this org and user, or denied. */
  async decideDevice(id: string, decision: { orgId: string; userId: string; approve: boolean }, now: Date) {
    const r = await this.prisma.deviceAuthorization.updateMany({
      where: { id, status: 'pending', expiresAt: { gt: now } },
      data: decision.approve
        ? { status: 'approved', orgId: decision.orgId, userId: decision.userId }
        : { status: 'denied', orgId: decision.orgId, userId: decision.userId },
    });
    return r.count === 1;
  }

  /** Marks an approved request as issued, once: only the poll that wins this mints the token. */
  async claimDevice(id: string): Promise<boolean> {
    const r = await this.prisma.deviceAuthorization.updateMany({
      where: { id, status: 'approved' },
      data: { status: 'issued' },
    });
    return r.count === 1;
  }

  async setDeviceToken(id: string, tokenId: string): Promise<void> {
    await this.prisma.deviceAuthorization.update({ where: { id }, data: { tokenId } });
  }

  /** Forgets device requests that expired before `before` (their tokens, if any, live on as API tokens). */
  async pruneDeviceAuthorizations(before: Date): Promise<void> {
    await this.prisma.deviceAuthorization.deleteMany({ where: { expiresAt: { lt: before } } });
  }
}
