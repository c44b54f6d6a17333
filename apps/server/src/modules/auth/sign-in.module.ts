import { Module } from '@nestjs/common';
import { OrgsModule } from '../orgs/orgs.module';
import { AuthModule } from './auth.module';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** How people get a principal: API tokens, OIDC browser sign-in, the CLI's device authorization. */
@Module({
  imports: [AuthModule, OrgsModule],
  controllers: [TokensController],
  providers: [TokensService],
  exports: [TokensService],
})
export class SignInModule {}
