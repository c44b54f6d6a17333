import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type AuditEvent, type AuditSinkFormat, type JobPayload } from '@yoke/protocol';
import { SecretBox } from '../../core/auth/secret-box';
import { JobQueue } from '../../core/queue/job-queue';
import { type JobProcessor, JobRegistry } from '../../core/queue/job-registry';
import { AuditRepository } from './audit.repository';
import { sendOtlpLogs, sendWebhook, SinkRefused, type SinkBatch } from './audit-sink-senders';
import { type AuditSinkRow, AuditSinksRepository } from './audit-sinks.repository';
import { AuditTrail } from './audit-trail.service';

/** Events per delivery (one webhook request, one OTLP export). */
export const SINK_BATCH = 200;
/** Every this often, every enabled sink that is behind gets a delivery, whatever happened to the last one. */
export const SINK_SWEEP_MS = 30_000;
/** How long the sinks of an org are remembered between appends (a sink made on another replica waits this long). */
const SINKS_CACHE_MS = 5_000;

/**
 * Streams each org's audit log to its sinks (DESIGN §10): at least once, in seq order, from the cursor persisted on
 * the sink. `audit.deliver` sends the events after the cursor in batches; only an acknowledged batch moves the
 * cursor, by compare-and-set, so a crash or a race resends (the event id is the consumer's dedupe key) but never
 * skips. A delivery is enqueued after each append (coalesced per sink: a burst is one job, and one sink never has
 * two running), when a sink is made or enabled, and by a sweep every 30 s; a failed batch is retried with backoff.
 */
@Injectable()
export class AuditSinkDelivery
  implements JobProcessor<'audit.deliver'>, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  readonly job = 'audit.deliver' as const;
  private readonly logger = new Logger(AuditSinkDelivery.name);
  private readonly sinksOf = new Map<string, { ids: string[]; until: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sinks: AuditSinksRepository,
    private readonly log: AuditRepository,
    private readonly secrets: SecretBox,
    private readonly registry: JobRegistry,
    private readonly queue: JobQueue,
    private readonly trail: AuditTrail,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
    this.trail.onAppended((orgId) => void this.appended(orgId));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SINK_SWEEP_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Starts a delivery to the sink (or, when one runs, another right after it). */
  enqueue(orgId: string, sinkId: string): Promise<void> {
    return this.queue
      .enqueue('audit.deliver', { orgId, sinkId }, { jobId: `audit-deliver-${sinkId}`, coalesce: true })
      .catch((err: unknown) => {
        // The sweep enqueues it again.
        this.logger.warn({ err, orgId, sinkId }, 'audit delivery not enqueued');
      });
  }

  /** The org's sinks changed here: the next append reads them again. */
  forget(orgId: string): void {
    this.sinksOf.delete(orgId);
  }

  async handle({ orgId, sinkId }: JobPayload<'audit.deliver'>): Promise<void> {
    for (;;) {
      const sink = await this.sinks.find(orgId, sinkId);
      if (!sink || !sink.enabled) return;
      const cursor = Number(sink.cursor);
      const rows = await this.log.list(orgId, {}, cursor, SINK_BATCH);
      if (rows.length === 0) return;
      const events = rows.map((r) => r.event as unknown as AuditEvent);
      try {
        await this.send(sink, { orgId, events, format: sink.format as AuditSinkFormat });
      } catch (err) {
        const message = err instanceof SinkRefused ? err.message : 'the delivery failed; see the server log';
        if (!(err instanceof SinkRefused)) this.logger.error({ err, orgId, sinkId }, 'audit delivery failed');
        await this.sinks.recordFailure(sinkId, message.slice(0, 1000));
        // Thrown, so the queue retries with backoff.
        throw err;
      }
      const last = Number(rows[rows.length - 1].seq);
      // Another delivery moved the cursor meanwhile: it carries on from there.
      if (!(await this.sinks.advance(sinkId, cursor, last))) return;
      if (rows.length < SINK_BATCH) return;
    }
  }

  private async send(sink: AuditSinkRow, batch: SinkBatch): Promise<void> {
    switch (sink.kind) {
      case 'webhook':
        if (!sink.secretEnc) throw new SinkRefused('the webhook has no secret');
        return sendWebhook(sink.url, this.secrets.decrypt(sink.secretEnc), batch);
      case 'otlp_logs':
        return sendOtlpLogs(sink.url, batch);
      default:
        throw new SinkRefused(`unknown sink kind ${sink.kind}`);
    }
  }

  private async appended(orgId: string): Promise<void> {
    try {
      let cached = this.sinksOf.get(orgId);
      if (!cached || cached.until < Date.now()) {
        const ids = (await this.sinks.enabledIds(orgId)).map((s) => s.id);
        cached = { ids, until: Date.now() + SINKS_CACHE_MS };
        this.sinksOf.set(orgId, cached);
      }
      for (const id of cached.ids) await this.enqueue(orgId, id);
    } catch (err) {
      this.logger.warn({ err, orgId }, 'audit sinks not notified; the sweep delivers');
    }
  }

  private async sweep(): Promise<void> {
    try {
      for (const { id, orgId } of await this.sinks.behind()) await this.enqueue(orgId, id);
    } catch (err) {
      this.logger.warn({ err }, 'audit sink sweep skipped');
    }
  }
}
