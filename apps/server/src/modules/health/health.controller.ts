import { Controller, Get, Header } from '@nestjs/common';
import { MetricsService } from '../../core/metrics/metrics.service';
import { Public } from '../../core/auth/principal';
import { NotAudited } from '../audit/audited';
import { HealthService } from './health.service';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process answers; says nothing about Postgres or Redis (a restart would not bring them back). */
  @Public()
  @NotAudited('liveness probe')
  @Get('health')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: 200 when Postgres and Redis answer; 503 `service.unavailable` naming the one down, within ~1 s. */
  @Public()
  @NotAudited('readiness probe')
  @Get('ready')
  ready() {
    return this.health.ready();
  }

  @Public()
  @NotAudited('Prometheus scrape: aggregate counters, no org data')
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async scrape() {
    return this.metrics.registry.metrics();
  }
}
