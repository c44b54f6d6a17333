import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of this process, served at /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly itemsIngested = new Counter({
    name: 'yoke_items_ingested_total',
    help: 'Session items persisted from runners',
    registers: [this.registry],
  });
  readonly deltasRelayed = new Counter({
    name: 'yoke_deltas_relayed_total',
    help: 'Ephemeral deltas fanned out to viewers: route local (this replica only) or cluster (through Redis too)',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly ingestSeconds = new Histogram({
    name: 'yoke_item_batch_ingest_seconds',
    help: 'Time to validate, persist and publish one runner item batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly socketsConnected = new Gauge({
    name: 'yoke_sockets_connected',
    help: 'Open sockets by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  readonly runnersConnected = new Gauge({
    name: 'yoke_runners_connected',
    help: 'Runners connected to this replica',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'yoke_' });
  }
}
