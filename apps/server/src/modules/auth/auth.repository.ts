import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma/prisma.service';

@Injectable()
export class AuthRepository {
  constructor(private readonly prisma: PrismaService) {}

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
    return { token, user: token.user, role: membership.role };
  }

  async createToken(data: { orgId: string; userId: string; name: string; tokenHash: string; expiresAt?: Date }) {
    return this.prisma.apiToken.create({ data });
  }
}
