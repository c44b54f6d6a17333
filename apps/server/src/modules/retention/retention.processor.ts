import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { JobPayload } from '@yoke/protocol';
import { JobQueue } from '../../core/queue/job-queue';
import { type JobProcessor, JobRegistry } from '../../core/queue/job-registry';
import { RetentionRepository } from './retention.repository';
import { RetentionSweep } from './retention-sweep.use-case';

/** How often the nightly schedule looks for orgs whose sweep of the day (UTC) has not been enqueued yet. */
export const RETENTION_TICK_MS = 15 * 60_000;

/**
 * The nightly retention sweep: a heartbeat enqueues `retention.sweep` once per UTC day for every org with a retention
 * set, under a job id naming the org and the day (so replicas and restarts enqueue it once), and the job runs the
 * sweep. `POST /org/retention/run` runs the same sweep at once.
 */
@Injectable()
export class RetentionProcessor
  implements JobProcessor<'retention.sweep'>, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  readonly job = 'retention.sweep' as const;
  private readonly logger = new Logger(RetentionProcessor.name);
  private readonly enqueued = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sweep: RetentionSweep,
    private readonly repo: RetentionRepository,
    private readonly registry: JobRegistry,
    private readonly queue: JobQueue,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), RETENTION_TICK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async handle({ orgId }: JobPayload<'retention.sweep'>): Promise<void> {
    await this.sweep.run(orgId);
  }

  /** Enqueues today's sweep of each org with a retention, once per org and day. */
  async tick(now = new Date()): Promise<void> {
    const day = now.toISOString().slice(0, 10).replace(/-/g, '');
    try {
      for (const { orgId } of await this.repo.orgsWithRetention()) {
        if (this.enqueued.get(orgId) === day) continue;
        await this.queue.enqueue('retention.sweep', { orgId }, { jobId: `retention-sweep-${orgId}-${day}` });
        this.enqueued.set(orgId, day);
      }
    } catch (err) {
      this.logger.warn({ err }, 'retention schedule skipped');
    }
  }
}
