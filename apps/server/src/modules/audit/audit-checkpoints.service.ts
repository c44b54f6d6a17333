import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { auditOrigin, Frontier, type FrontierJson, signCheckpoint } from '@yoke/audit';
import type { AuditCheckpointView, JobPayload } from '@yoke/protocol';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { Transactions } from '../../core/prisma/transactions';
import { JobQueue } from '../../core/queue/job-queue';
import { type JobProcessor, JobRegistry } from '../../core/queue/job-registry';
import { AuditKeys } from './audit-keys.service';
import { AuditRepository, type AuditCheckpointRow } from './audit.repository';
import { AuditTrail } from './audit-trail.service';

/**
 * Signed checkpoints of each org's tree: after every N events appended, and every T seconds whether or not anything
 * happened (a heartbeat with an unchanged size proves "no events until then"). Each extends the previous one's
 * frontier with the new leaves only, under an advisory lock per org so replicas never sign out of order.
 */
@Injectable()
export class AuditCheckpoints
  implements JobProcessor<'audit.checkpoint'>, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  readonly job = 'audit.checkpoint' as const;
  private readonly logger = new Logger(AuditCheckpoints.name);
  private readonly sinceCheckpoint = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: AuditRepository,
    private readonly keys: AuditKeys,
    private readonly tx: Transactions,
    private readonly registry: JobRegistry,
    private readonly queue: JobQueue,
    private readonly trail: AuditTrail,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
    this.trail.onAppended((orgId, size) => {
      const last = this.sinceCheckpoint.get(orgId) ?? 0;
      if (size - last >= this.config.audit.checkpointEvents) {
        this.sinceCheckpoint.set(orgId, size);
        this.enqueue(orgId, `n${size}`);
      }
    });
  }

  onApplicationBootstrap(): void {
    const every = this.config.audit.checkpointSeconds * 1000;
    this.timer = setInterval(() => void this.heartbeat(every), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async handle({ orgId }: JobPayload<'audit.checkpoint'>): Promise<void> {
    await this.checkpoint(orgId);
  }

  /**
   * Signs a checkpoint of the org's log as it is now; returns it. The new leaves are read outside any transaction
   * (a million of them take longer than a transaction may stay open); the insert then takes the org's checkpoint
   * lock and goes ahead only if no other checkpoint landed meanwhile, else it starts again from that one.
   */
  async checkpoint(orgId: string): Promise<AuditCheckpointRow> {
    const { id: keyId, key } = await this.keys.activeKey();
    for (let attempt = 0; attempt < 5; attempt++) {
      const last = await this.repo.latestCheckpoint(orgId);
      const size = await this.repo.size(orgId);
      const frontier = last ? Frontier.fromJSON(last.frontier as unknown as FrontierJson) : Frontier.empty();
      for await (const leaf of this.repo.leaves(orgId, frontier.size, size)) frontier.push(leaf);
      if (frontier.size !== size) throw new Error(`audit log of ${orgId}: ${frontier.size} leaves for size ${size}`);
      const row = await this.tx.run(async () => {
        await this.repo.lockCheckpoints(orgId);
        const latest = await this.repo.latestCheckpoint(orgId);
        if ((latest?.id ?? null) !== (last?.id ?? null)) return null;
        const at = new Date();
        const root = frontier.root();
        const note = signCheckpoint({ origin: auditOrigin(orgId), size, root, time: at }, key);
        return this.repo.addCheckpoint({ orgId, size, root, frontier: frontier.toJSON(), keyId, note, at });
      });
      if (row) return row;
    }
    throw new Error(`audit log of ${orgId}: checkpoints kept landing while this one was computed`);
  }

  /** The checkpoint that covers the log now: the latest if nothing was appended since, else a new one. */
  async current(orgId: string): Promise<AuditCheckpointRow> {
    const [size, last] = await Promise.all([this.repo.size(orgId), this.repo.latestCheckpoint(orgId)]);
    if (last && Number(last.size) === size) return last;
    return this.checkpoint(orgId);
  }

  private async heartbeat(everyMs: number): Promise<void> {
    try {
      const bucket = Math.floor(Date.now() / everyMs);
      for (const { orgId } of await this.repo.orgsWithLogs()) this.enqueue(orgId, `t${bucket}`);
    } catch (err) {
      this.logger.warn({ err }, 'audit checkpoint heartbeat skipped');
    }
  }

  private enqueue(orgId: string, tag: string): void {
    this.queue.enqueue('audit.checkpoint', { orgId }, { jobId: `audit-checkpoint-${orgId}-${tag}` }).catch((err) => {
      this.logger.warn({ err, orgId }, 'audit checkpoint not enqueued');
    });
  }
}

export function checkpointView(row: AuditCheckpointRow): AuditCheckpointView {
  return {
    size: Number(row.size),
    root: Buffer.from(row.root).toString('base64'),
    at: row.at.toISOString(),
    keyId: row.keyId,
    note: row.note,
  };
}
