import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS_CLIENT } from '../../core/redis/redis.tokens';
import { HealthRepository } from './health.repository';

@Injectable()
export class HealthService {
  constructor(
    private readonly repo: HealthRepository,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
  ) {}

  async check(): Promise<Record<string, 'ok' | string>> {
    const checks: Record<string, string> = {};
    checks.database = await this.repo.ping().then(
      () => 'ok',
      (e: Error) => e.message,
    );
    if (this.redis) {
      checks.redis = await this.redis.ping().then(
        () => 'ok',
        (e: Error) => e.message,
      );
    }
    return checks;
  }
}
