import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma/prisma.service';

@Injectable()
export class OrgsRepository {
  constructor(private readonly prisma: PrismaService) {}

  countOrgs() {
    return this.prisma.org.count();
  }

  findMembership(orgSlug: string, email: string) {
    return this.prisma.membership.findFirst({
      where: { org: { slug: orgSlug }, user: { email } },
      include: { org: true, user: true },
    });
  }

  /** Creates an org with its first owner, idempotently by slug and email. */
  async ensureOrgWithOwner(org: { slug: string; name: string }, user: { email: string; name: string }) {
    return this.prisma.$transaction(async (tx) => {
      const o = await tx.org.upsert({ where: { slug: org.slug }, update: {}, create: org });
      const u = await tx.user.upsert({ where: { email: user.email }, update: {}, create: user });
      const m = await tx.membership.upsert({
        where: { orgId_userId: { orgId: o.id, userId: u.id } },
        update: {},
        create: { orgId: o.id, userId: u.id, role: 'owner' },
      });
      return { org: o, user: u, role: m.role };
    });
  }
}
