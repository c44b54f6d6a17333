import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { BootstrapService } from './bootstrap.service';
import { OrgsModule } from '../orgs/orgs.module';

@Module({ imports: [OrgsModule, AuthModule], providers: [BootstrapService] })
export class BootstrapModule {}
