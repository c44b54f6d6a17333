import { Module } from '@nestjs/common';
import { OrgsModule } from '../orgs/orgs.module';
import { AuthModule } from './auth.module';
import { DeviceController } from './device.controller';
import { DeviceService } from './device.service';
import { OidcController } from './oidc.controller';
import { OidcService } from './oidc.service';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** How people get a principal: API tokens, OIDC browser sign-in, the CLI's device authorization. */
@Module({
  imports: [AuthModule, OrgsModule],
  controllers: [TokensController, OidcController, DeviceController],
  providers: [TokensService, OidcService, DeviceService],
  exports: [TokensService],
})
export class SignInModule {}
