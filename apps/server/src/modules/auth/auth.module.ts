import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessModule } from '../access/access.module';
import { OrgsModule } from '../orgs/orgs.module';
import { AuthGuard } from './auth.guard';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { SecretBox } from '../../core/auth/secret-box';

@Module({
  imports: [OrgsModule, AccessModule],
  providers: [AuthRepository, AuthService, SecretBox, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService, AuthRepository, SecretBox],
})
export class AuthModule {}
