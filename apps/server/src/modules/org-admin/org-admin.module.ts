import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SignInModule } from '../auth/sign-in.module';
import { OrgsController } from './orgs.controller';
import { OrgsModule } from '../orgs/orgs.module';
import { OrgsService } from './orgs.service';

/** The org API: the caller, members and roles, invitations, single sign-on settings. */
@Module({
  imports: [OrgsModule, AuthModule, SignInModule],
  controllers: [OrgsController],
  providers: [OrgsService],
})
export class OrgAdminModule {}
