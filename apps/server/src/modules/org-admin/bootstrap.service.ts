import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { userInfo } from 'node:os';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { hashSecret } from '../../core/tokens';
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.embedded) {
      const name = safeUserName();
      const { org, user, role } = await this.orgs.ensureOrgWithOwner(
        { slug: LOCAL_ORG_SLUG, name: 'Local' },
        { email: `${name}@localhost`, name },
      );
      this.local.set({ userId: user.id, orgId: org.id, name: user.name, email: user.email, role });
      return;
    }
    if (this.config.bootstrapToken && (await this.orgs.countOrgs()) === 0) {
      const { org, user } = await this.orgs.ensureOrgWithOwner(
        { slug: 'default', name: 'Default' },
        { email: this.config.bootstrapEmail, name: 'Admin' },
      );
      await this.tokens.createToken({
        orgId: org.id,
        userId: user.id,
        name: 'bootstrap',
        tokenHash: hashSecret(this.config.bootstrapToken),
      });
      this.logger.log({ orgId: org.id }, 'created the first org; its owner holds the bootstrap token');
    }
  }
}

function safeUserName(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return 'local';
  }
}
