import { Module } from '@nestjs/common';
import { LocalIdentity } from './local-identity';
import { OrgsRepository } from './orgs.repository';

@Module({
  providers: [OrgsRepository, LocalIdentity],
  exports: [OrgsRepository, LocalIdentity],
})
export class OrgsModule {}
