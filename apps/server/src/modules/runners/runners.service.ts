import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AppError,
  type AuditActor,
  type CreateEnrolmentBody,
  type EnrolBody,
  type EnrolReply,
  type Enrolment,
  type RotateCredentialReply,
  type RunnerView,
} from '@yoke/protocol';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { JobQueue } from '../../core/queue/job-queue';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { hashSecret, newSecret } from '../../core/tokens';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { RunnersRepository } from './runners.repository';

export type RunnerIdentity = { runnerId: string; orgId: string; name: string };

@Injectable()
export class RunnersService {
  private readonly logger = new Logger(RunnersService.name);
  private readonly revokedListeners: ((runnerId: string) => Promise<void> | void)[] = [];

  constructor(
    private readonly repo: RunnersRepository,
    private readonly jobs: JobQueue,
    private readonly publisher: RealtimePublisher,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async createEnrolment(principal: Principal, body: CreateEnrolmentBody): Promise<Enrolment> {
    const token = newSecret('yke');
    const expiresAt = new Date(Date.now() + body.ttlSeconds * 1000);
    await this.tx.run(async () => {
      const row = await this.repo.createEnrolment({
        orgId: principal.orgId,
        createdById: principal.userId,
        name: body.name,
        tokenHash: hashSecret(token),
        expiresAt,
      });
      await this.audit.record({
        orgId: principal.orgId,
        action: 'runner.enrolment_created',
        target: { kind: 'runner_enrolment', id: row.id, ...(body.name ? { name: body.name } : {}) },
        details: { expiresAt: expiresAt.toISOString() },
      });
    });
    return { token, expiresAt: expiresAt.toISOString() };
  }

  /** Exchanges a one-time enrolment token for a runner credential, shown once and stored hashed. */
  async enrol(body: EnrolBody): Promise<EnrolReply> {
    const credential = newSecret('ykr');
    const runner = await this.tx.run(async () => {
      const created = await this.repo.enrolWithToken(hashSecret(body.token), new Date(), {
        name: body.name,
        platform: body.platform,
        credentialHash: hashSecret(credential),
      });
      if (!created) return null;
      const identity = { runnerId: created.id, orgId: created.orgId, name: created.name };
      await this.audit.record({
        orgId: created.orgId,
        action: 'runner.enrolled',
        target: runnerTarget(identity),
        // Whoever holds the one-time token becomes this runner.
        actor: runnerActor(identity),
        details: { platform: created.platform ?? null },
      });
      return created;
    });
    if (!runner)
      throw new AppError('runner.enrolment_invalid', 'the enrolment token is invalid, expired or already used');
    return { runnerId: runner.id, orgId: runner.orgId, credential };
  }

  async authenticate(credential: string): Promise<RunnerIdentity> {
    const runner = await this.repo.findByCredentialHash(hashSecret(credential));
    if (!runner) throw new AppError('auth.invalid_token', 'the runner credential is invalid');
    if (runner.revokedAt) throw new AppError('runner.revoked', 'this runner was revoked by an org admin');
    return { runnerId: runner.id, orgId: runner.orgId, name: runner.name };
  }

  /** A new credential for a connected runner, shown once; the old one works until the new one is first used. */
  async rotateCredential(runner: RunnerIdentity): Promise<RotateCredentialReply> {
    const credential = newSecret('ykr');
    await this.tx.run(async () => {
      const r = await this.repo.rotateCredential(runner.orgId, runner.runnerId, hashSecret(credential), new Date());
      if (!r) throw new AppError('runner.revoked', 'this runner was revoked by an org admin');
      await this.audit.record({
        orgId: runner.orgId,
        action: 'runner.rotated',
        target: runnerTarget(runner),
        actor: runnerActor(runner),
      });
    });
    return { credential };
  }

  /** Revokes a runner of the caller's org and closes its sockets on every replica at once. */
  async revoke(principal: Principal, runnerId: string): Promise<void> {
    await this.tx.run(async () => {
      await this.assertNotLocalRunner(principal.orgId, runnerId);
      if (!(await this.repo.revoke(principal.orgId, runnerId, new Date()))) {
        throw new AppError('runner.not_found', 'no such runner');
      }
      await this.audit.record({
        orgId: principal.orgId,
        action: 'runner.revoked',
        target: { kind: 'runner', id: runnerId },
      });
    });
    this.publisher.disconnectRunner(runnerId);
    // A connected runner's sessions are republished when its socket closes; an offline one has no socket to close.
    for (const listener of this.revokedListeners) {
      await Promise.resolve(listener(runnerId)).catch((err: unknown) =>
        this.logger.warn({ err, runnerId }, 'could not tell viewers that the runner was revoked'),
      );
    }
  }

  /** Called after a revoke committed: the sessions module republishes the runner's sessions (their runner is gone). */
  onRevoked(listener: (runnerId: string) => Promise<void> | void): void {
    this.revokedListeners.push(listener);
  }

  /**
   * Embedded mode: the runner `yoke start` runs in its own process enrols like any other, so the server cannot tell it
   * apart; it refuses to revoke the org's only runner, which is that one (revoked, it could never reconnect).
   */
  private async assertNotLocalRunner(orgId: string, runnerId: string): Promise<void> {
    if (!this.config.embedded) return;
    const active = await this.repo.list(orgId);
    if (active.length === 1 && active[0].id === runnerId) {
      throw new AppError(
        'runner.local_runner',
        'this is the local runner of `yoke start`, the only one here: revoked, it could never reconnect. Stop Yoke instead',
      );
    }
  }

  async list(principal: Principal): Promise<RunnerView[]> {
    const runners = await this.repo.list(principal.orgId);
    return runners.map((r) => ({
      id: r.id,
      name: r.name,
      online: this.isOnline(r),
      lastSeenAt: r.lastSeenAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  /** The runner a new session goes to: the one asked for (in the caller's org), else the freshest online one. */
  async pick(orgId: string, runnerId: string | undefined): Promise<string> {
    if (runnerId) {
      const r = await this.repo.findById(orgId, runnerId);
      if (!r) throw new AppError('runner.not_found', 'no such runner');
      return r.id;
    }
    const r = await this.repo.findAvailable(orgId, this.staleBefore());
    if (!r)
      throw new AppError(
        'runner.no_runner_available',
        'no runner of this org is online; start one with `yoke runner start`',
      );
    return r.id;
  }

  /** A runner's socket was accepted: it is online, and the audit log says so (or the connection is refused). */
  async connected(runner: RunnerIdentity): Promise<void> {
    await this.tx.run(async () => {
      await this.repo.setOnline(runner.runnerId, true, new Date());
      await this.audit.record({
        orgId: runner.orgId,
        action: 'runner.connected',
        target: runnerTarget(runner),
        actor: runnerActor(runner),
      });
    });
  }

  /**
   * The runner's last socket closed: it is offline (with its audit event), and if it is not back within the grace
   * period its running sessions fail. The check is queued even when the audit log refused the change.
   */
  async disconnected(runner: RunnerIdentity): Promise<void> {
    const at = new Date();
    try {
      await this.tx.run(async () => {
        await this.repo.setOnline(runner.runnerId, false, at);
        await this.audit.record({
          orgId: runner.orgId,
          action: 'runner.disconnected',
          target: runnerTarget(runner),
          actor: runnerActor(runner),
        });
      });
    } finally {
      await this.queueOfflineCheck(runner, at);
    }
  }

  private async queueOfflineCheck(runner: RunnerIdentity, at: Date): Promise<void> {
    await this.jobs.enqueue(
      'runner.offline-check',
      { runnerId: runner.runnerId, orgId: runner.orgId, disconnectedAt: at.toISOString() },
      {
        jobId: `runner-offline-${runner.runnerId}-${at.getTime()}`,
        delayMs: this.config.runnerOfflineGraceSeconds * 1000,
      },
    );
  }

  /** True when the runner is connected again (or was never seen offline). */
  async isBackOnline(orgId: string, runnerId: string): Promise<boolean> {
    const r = await this.repo.findById(orgId, runnerId);
    return !r || this.isOnline(r);
  }

  async heartbeat(runnerId: string): Promise<Date> {
    const at = new Date();
    await this.repo.touch(runnerId, at);
    return at;
  }

  isOnline(r: { online: boolean; lastSeenAt: Date | null }): boolean {
    return r.online && !!r.lastSeenAt && r.lastSeenAt >= this.staleBefore();
  }

  private staleBefore(): Date {
    return new Date(Date.now() - this.config.runnerStaleSeconds * 1000);
  }
}

/** A runner as the actor of its own events (its connection, enrolment, credential rotation). */
export function runnerActor(runner: RunnerIdentity): AuditActor {
  return { kind: 'runner', id: runner.runnerId, name: runner.name };
}

function runnerTarget(runner: RunnerIdentity) {
  return { kind: 'runner', id: runner.runnerId, name: runner.name };
}
