import { Injectable } from '@nestjs/common';
import { AppError } from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';

/** The single local user of embedded mode, set once at boot by the bootstrap service. */
@Injectable()
export class LocalIdentity {
  private current: Principal | null = null;

  set(principal: Principal): void {
    this.current = principal;
  }

  principal(): Principal {
    if (!this.current) throw new AppError('auth.unauthenticated', 'the local user is not ready yet');
    return this.current;
  }
}
