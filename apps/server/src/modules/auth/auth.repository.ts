import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/prisma/transactions';

const TOUCH_EVERY_MS = 60_000;

@Injectable()
export class AuthRepository {
  constructor(private readonly db: Transactions) {}

  /** The client of the caller's transaction, if any (Transactions.run), else the plain client. */
  private get prisma() {
    return this.db.client;
  }

  /** A live API token with its user and that user's role in the token's org. */
  async findActiveToken(tokenHash: string, now: Date) {
    const token = await this.prisma.apiToken.findUnique({
      where: { tokenHash },
      include: { user: true },
    });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) return null;
    const membership = await this.prisma.membership.findUnique({
      where: { orgId_userId: { orgId: token.orgId, userId: token.userId } },
    });
    if (!membership) return null;
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await this.prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
    }
    return { token, user: token.user, role: membership.role };
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

  /** A live browser session with its user and that user's current role in the session's org. */
  async findActiveWebSession(tokenHash: string, now: Date) {
    const session = await this.prisma.webSession.findUnique({ where: { tokenHash }, include: { user: true } });
    if (!session || session.revokedAt || session.expiresAt <= now) return null;
    const membership = await this.prisma.membership.findUnique({
      where: { orgId_userId: { orgId: session.orgId, userId: session.userId } },
    });
    if (!membership) return null;
    return { session, user: session.user, role: membership.role };
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
