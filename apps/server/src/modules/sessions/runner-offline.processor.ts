import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { JobPayload } from '@yoke/protocol';
import { type JobProcessor, JobRegistry } from '../../core/queue/job-registry';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { RunnersService } from '../runners/runners.service';
import { SessionsRepository } from './sessions.repository';
import { SessionViewsService } from './session-views.service';

/**
 * A runner that stays away past the grace period cannot finish the turns it was running: those sessions become
 * `failed` with the reason, so no session shows "running" forever. A runner that comes back later still reports
 * how its turns really ended (a restarted runner fails them itself).
 */
@Injectable()
export class RunnerOfflineProcessor implements JobProcessor<'runner.offline-check'>, OnModuleInit {
  readonly job = 'runner.offline-check' as const;

  constructor(
    private readonly registry: JobRegistry,
    private readonly runners: RunnersService,
    private readonly repo: SessionsRepository,
    private readonly views: SessionViewsService,
    private readonly publisher: RealtimePublisher,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async handle({ runnerId, orgId, disconnectedAt }: JobPayload<'runner.offline-check'>): Promise<void> {
    if (await this.runners.isBackOnline(orgId, runnerId)) return;
    const rows = await this.repo.failActiveSessions(
      orgId,
      runnerId,
      `the runner has been offline since ${disconnectedAt}`,
    );
    for (const row of rows) this.publisher.sessionUpdated(this.views.view(row));
  }
}
