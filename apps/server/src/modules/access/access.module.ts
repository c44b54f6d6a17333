import { Module } from '@nestjs/common';
import { AccessRepository } from './access.repository';
import { GuestCredentials } from './guest-credentials';
import { SessionAccessService } from './session-access.service';

/** Session roles and link-guest credentials; depends on nothing but Prisma, so auth and sessions can import it. */
@Module({
  providers: [AccessRepository, SessionAccessService, GuestCredentials],
  exports: [SessionAccessService, GuestCredentials],
})
export class AccessModule {}
