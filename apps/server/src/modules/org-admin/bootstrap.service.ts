import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { userInfo } from 'node:os';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { hashSecret } from '../../core/tokens';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { AuthRepository } from '../auth/auth.repository';
import { LocalIdentity } from '../orgs/local-identity';
import { OrgsRepository } from '../orgs/orgs.repository';

export const LOCAL_ORG_SLUG = 'local';

/**
 * First boot: embedded mode gets its local org and user; team mode with YOKE_BOOTSTRAP_TOKEN and no org yet gets
 * a first org whose owner holds that token (until SSO is configured).
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapService.name);

  constructor(
    private readonly orgs: OrgsRepository,
    private readonly tokens: AuthRepository,
    private readonly local: LocalIdentity,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.embedded) {
      const name = safeUserName();
      const { org, user, role } = await this.tx.run(async () => {
        const isNew = !(await this.orgs.findOrgBySlug(LOCAL_ORG_SLUG));
        const made = await this.orgs.ensureOrgWithOwner(
          { slug: LOCAL_ORG_SLUG, name: 'Local' },
          { email: `${name}@localhost`, name },
        );
        if (isNew) await this.audit.record(founded(made.org, made.user.id, 'embedded'));
        return made;
      });
      this.local.set({ userId: user.id, orgId: org.id, name: user.name, email: user.email, role });
      return;
    }
    const bootstrapToken = this.config.bootstrapToken;
    if (bootstrapToken && (await this.orgs.countOrgs()) === 0) {
      const org = await this.tx.run(async () => {
        const { org, user } = await this.orgs.ensureOrgWithOwner(
          { slug: 'default', name: 'Default' },
          { email: this.config.bootstrapEmail, name: 'Admin' },
        );
        const token = await this.tokens.createToken({
          orgId: org.id,
          userId: user.id,
          name: 'bootstrap',
          tokenHash: hashSecret(bootstrapToken),
        });
        await this.audit.record(founded(org, user.id, 'bootstrap'), {
          orgId: org.id,
          action: 'api_token.created',
          target: { kind: 'api_token', id: token.id, name: token.name },
          details: {
            userId: user.id,
            scope: token.scope,
            kind: token.kind,
            expiresAt: token.expiresAt?.toISOString() ?? null,
            bootstrap: true,
          },
        });
        return org;
      });
      this.logger.log({ orgId: org.id }, 'created the first org; its owner holds the bootstrap token');
    }
  }
}

/** The first org, made by the server itself at first boot (the audit actor defaults to the system). */
function founded(org: { id: string; slug: string; name: string }, ownerId: string, how: string) {
  return {
    orgId: org.id,
    action: 'org.created',
    target: { kind: 'org', id: org.id, name: org.slug },
    details: { slug: org.slug, name: org.name, ownerId, bootstrap: how },
  };
}

function safeUserName(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return 'local';
  }
}
