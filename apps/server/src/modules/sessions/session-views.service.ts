import { Injectable } from '@nestjs/common';
import type { Session } from '@yoke/protocol';
import { RunnersService } from '../runners/runners.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { toSessionView } from './session.mapper';
import { SessionsRepository } from './sessions.repository';

/** How a session row looks to clients (with its runner's presence), and republishing it when that changes. */
@Injectable()
export class SessionViewsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly runners: RunnersService,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** Tells every viewer that a runner came or went (sessions show "runner offline"). */
  async publishRunnerSessions(runnerId: string): Promise<void> {
    const rows = await this.repo.listForRunner(runnerId, 200);
    for (const row of rows) this.publisher.sessionUpdated(this.view(row));
  }

  view(row: Parameters<typeof toSessionView>[0]): Session {
    return toSessionView(row, (r) => this.runners.isOnline(r));
  }
}
