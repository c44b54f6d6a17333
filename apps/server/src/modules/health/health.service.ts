import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { type Dependency, serviceUnavailable } from '../../core/errors/outage';
import { REDIS_CLIENT } from '../../core/redis/redis.tokens';
import { HealthRepository } from './health.repository';

/** How long each dependency has to answer a readiness check. */
export const READY_CHECK_TIMEOUT_MS = 1_000;

export type CheckResult = 'ok' | 'down' | 'timeout';
export interface Readiness {
  status: 'ok';
  checks: Partial<Record<Dependency, CheckResult>>;
}

@Injectable()
export class HealthService {
  private readonly logger = new Logger('health');

  constructor(
    private readonly repo: HealthRepository,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
  ) {}

  /**
   * Postgres and (team mode) Redis, each given `READY_CHECK_TIMEOUT_MS`; throws `service.unavailable` naming the
   * first one down. Never waits longer: a load balancer polls this while a dependency restarts.
   */
  async ready(): Promise<Readiness> {
    const redis = this.redis;
    const [postgres, redisCheck] = await Promise.all([
      this.probe('postgres', () => this.repo.ping()),
      redis ? this.probe('redis', () => pingRedis(redis)) : undefined,
    ]);
    const checks: Readiness['checks'] = { postgres, ...(redisCheck ? { redis: redisCheck } : {}) };
    const down = (Object.keys(checks) as Dependency[]).find((d) => checks[d] !== 'ok');
    if (down) throw serviceUnavailable(down, { checks });
    return { status: 'ok', checks };
  }

  private async probe(dependency: Dependency, run: () => Promise<unknown>): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), READY_CHECK_TIMEOUT_MS);
    });
    const answer = run().then(
      (): CheckResult => 'ok',
      (err: unknown): CheckResult => {
        this.logger.warn({ err, dependency }, 'readiness check failed');
        return 'down';
      },
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The shared client queues commands while disconnected (BullMQ needs `maxRetriesPerRequest: null`), so a PING would
 * wait for the reconnect: a client that is not connected is down, whatever the PING would say later.
 */
async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
  await redis.ping();
}
