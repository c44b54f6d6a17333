import { Injectable } from '@nestjs/common';
import { AppError, type WorkspaceFile, type WorkspaceListing } from '@yoke/protocol';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';
import { SessionQueriesService } from '../sessions/session-queries.service';

const FILES_TIMEOUT_MS = 8_000;

/** The session workspace, served by the runner that holds the session (paths confined and size-capped there). */
@Injectable()
export class FilesService {
  constructor(
    private readonly access: SessionAccessService,
    private readonly sessions: SessionQueriesService,
    private readonly publisher: RealtimePublisher,
  ) {}

  async list(p: Principal, sessionId: string, path: string): Promise<WorkspaceListing> {
    const runnerId = await this.runnerOf(p, sessionId);
    const reply = await this.publisher.askRunner(runnerId, 'workspace.list', { sessionId, path }, FILES_TIMEOUT_MS);
    if (!reply) throw unavailable();
    if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
    return reply.listing;
  }

  async read(p: Principal, sessionId: string, path: string): Promise<WorkspaceFile> {
    const runnerId = await this.runnerOf(p, sessionId);
    const reply = await this.publisher.askRunner(runnerId, 'workspace.read', { sessionId, path }, FILES_TIMEOUT_MS);
    if (!reply) throw unavailable();
    if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
    return reply.file;
  }

  private async runnerOf(p: Principal, sessionId: string): Promise<string> {
    await this.access.require(p, sessionId, 'view');
    const session = await this.sessions.get(p, sessionId);
    if (!session.runnerId || !session.runnerOnline) throw unavailable();
    return session.runnerId;
  }
}

function unavailable(): AppError {
  return new AppError('workspace.unavailable', 'the runner holding this session is offline; files are unavailable');
}
