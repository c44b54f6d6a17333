import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { auditOrigin, Frontier, writeBundle } from '@yoke/audit';
import {
  AppError,
  type AuditEvent,
  type AuditExportView,
  type CreateAuditExportBody,
  type JobPayload,
} from '@yoke/protocol';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { JobQueue } from '../../core/queue/job-queue';
import { type JobProcessor, JobRegistry } from '../../core/queue/job-registry';
import { AuditCheckpoints } from './audit-checkpoints.service';
import { AuditKeys } from './audit-keys.service';
import { type AuditEventRow, type AuditExportRow, type AuditFilter, AuditRepository } from './audit.repository';
import { AuditTrail } from './audit-trail.service';

const PROGRESS_EVERY_MS = 500;

/**
 * Audit exports: requested over REST, written by the `audit.export` job (BullMQ in team mode, in process when
 * embedded) as one self-contained bundle streamed from Postgres — events, the checkpoints that cover them,
 * inclusion and consistency proofs, the public keys and a manifest — so memory stays flat at any size.
 */
@Injectable()
export class AuditExports implements JobProcessor<'audit.export'>, OnModuleInit {
  readonly job = 'audit.export' as const;
  private readonly logger = new Logger(AuditExports.name);

  constructor(
    private readonly repo: AuditRepository,
    private readonly checkpoints: AuditCheckpoints,
    private readonly keys: AuditKeys,
    private readonly trail: AuditTrail,
    private readonly tx: Transactions,
    private readonly registry: JobRegistry,
    private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async request(principal: Principal, body: CreateAuditExportBody): Promise<AuditExportView> {
    const filters = {
      ...(body.from ? { from: body.from } : {}),
      ...(body.to ? { to: body.to } : {}),
      ...(body.sessionId ? { sessionId: body.sessionId } : {}),
      ...(body.actor ? { actor: body.actor } : {}),
    };
    const row = await this.tx.run(async () => {
      const created = await this.repo.createExport({
        orgId: principal.orgId,
        requestedBy: principal.userId,
        filters,
        format: body.format,
      });
      await this.trail.record({
        orgId: principal.orgId,
        action: 'audit.exported',
        target: { kind: 'audit_export', id: created.id },
        details: { format: body.format, ...filters },
      });
      return created;
    });
    await this.queue.enqueue(
      'audit.export',
      { orgId: principal.orgId, exportId: row.id },
      { jobId: `audit-export-${row.id}` },
    );
    return exportView(row);
  }

  async get(orgId: string, id: string): Promise<AuditExportView> {
    return exportView(await this.find(orgId, id));
  }

  /** The finished bundle as a stream; the download is itself an audit event. */
  async download(orgId: string, id: string): Promise<{ stream: Readable; bytes: number; name: string }> {
    const row = await this.find(orgId, id);
    if (row.status !== 'done' || !row.path) {
      throw new AppError('audit.export_not_ready', `the export is ${row.status}`, { status: row.status });
    }
    const bytes = statSync(row.path).size;
    await this.trail.record({
      orgId,
      action: 'audit.downloaded',
      target: { kind: 'audit_export', id },
      details: { bytes, sha256: row.sha256 },
    });
    return { stream: createReadStream(row.path), bytes, name: `yoke-audit-${id}.tar.gz` };
  }

  async handle({ orgId, exportId }: JobPayload<'audit.export'>): Promise<void> {
    const row = await this.repo.findExport(orgId, exportId);
    if (!row || row.status === 'done') return;
    try {
      await this.repo.updateExport(exportId, { status: 'running', progress: 0 });
      const result = await this.write(row);
      await this.repo.updateExport(exportId, {
        status: 'done',
        progress: 1,
        events: result.events,
        bytes: result.bytes,
        sha256: result.sha256,
        path: result.path,
        finishedAt: new Date(),
      });
    } catch (err) {
      this.logger.error({ err, exportId }, 'audit export failed');
      await this.repo.updateExport(exportId, {
        status: 'failed',
        error: err instanceof AppError ? err.message : 'the export failed; see the server log',
        finishedAt: new Date(),
      });
    }
  }

  private async write(row: AuditExportRow) {
    const orgId = row.orgId;
    const filters = row.filters as { from?: string; to?: string; sessionId?: string; actor?: string };
    const filter: AuditFilter = {
      from: filters.from ? new Date(filters.from) : undefined,
      to: filters.to ? new Date(filters.to) : undefined,
      sessionId: filters.sessionId,
      actor: filters.actor,
    };
    // Everything exported is covered by a signed checkpoint: sign one now if events came after the last.
    const last = await this.checkpoints.current(orgId);
    const treeSize = Number(last.size);
    const total = await this.count(orgId, filter, treeSize);
    const firstSeq = await this.firstSeq(orgId, filter, treeSize);
    const first = firstSeq === null ? last : ((await this.repo.checkpointAtOrBelow(orgId, firstSeq - 1)) ?? last);
    const notes = first.id === last.id ? [last.note] : [first.note, last.note];
    const keys = (await this.keys.published()).map(({ name, vkey, createdAt, retiredAt }) => ({
      name,
      vkey,
      createdAt,
      retiredAt,
    }));
    mkdirSync(this.config.audit.exportDir, { recursive: true, mode: 0o700 });
    const path = join(this.config.audit.exportDir, `${row.id}.tar.gz`);
    let lastProgress = 0;
    const result = await writeBundle(path, {
      orgId,
      origin: auditOrigin(orgId),
      format: row.format as 'jsonl' | 'csv' | 'ocsf',
      filters,
      keys,
      checkpoints: notes,
      events: this.events(orgId, filter, treeSize),
      subtreeHash: (lo, hi) => this.subtreeHash(orgId, lo, hi),
      onProgress: (written) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_EVERY_MS || total === 0) return;
        lastProgress = now;
        void this.repo.updateExport(row.id, { progress: Math.min(0.99, written / total), events: written });
      },
    });
    return { ...result, path };
  }

  private async *events(orgId: string, filter: AuditFilter, maxSeq: number) {
    let batch: AuditEventRow[] = [];
    for await (const row of this.repo.stream(orgId, filter, maxSeq)) {
      batch.push(row);
      if (batch.length < 2_000) continue;
      yield* this.withContent(orgId, batch);
      batch = [];
    }
    yield* this.withContent(orgId, batch);
  }

  /** Each event with what the store knows of its content: its hash, and whether retention erased it. */
  private async *withContent(orgId: string, rows: AuditEventRow[]) {
    const hashes = rows.flatMap((r) => (r.contentHash ? [r.contentHash] : []));
    const contents = new Map((hashes.length ? await this.repo.contents(orgId, hashes) : []).map((c) => [c.hash, c]));
    for (const r of rows) {
      const c = r.contentHash ? contents.get(r.contentHash) : undefined;
      yield {
        seq: Number(r.seq),
        event: r.event as unknown as AuditEvent,
        leaf: Buffer.from(r.leaf),
        content: r.contentHash
          ? {
              hash: r.contentHash,
              redacted:
                c?.redactedRule && c.redactedAt ? { rule: c.redactedRule, at: c.redactedAt.toISOString() } : null,
            }
          : null,
      };
    }
  }

  /** MTH of leaves [lo, hi): the recorded leaf hashes of seqs lo+1..hi, streamed. */
  private async subtreeHash(orgId: string, lo: number, hi: number): Promise<Buffer> {
    const frontier = Frontier.empty();
    for await (const leaf of this.repo.leaves(orgId, lo, hi)) frontier.push(leaf);
    // Rows missing from the log (only a superuser bypassing the trigger can do that): the proof is made of what is
    // there, the bundle still carries the evidence, and the verifier names the missing seq.
    if (frontier.size !== hi - lo) this.logger.error({ orgId, lo, hi, found: frontier.size }, 'audit log has a gap');
    return frontier.root();
  }

  private async count(orgId: string, filter: AuditFilter, maxSeq: number): Promise<number> {
    return this.repo.count(orgId, filter, maxSeq);
  }

  private async firstSeq(orgId: string, filter: AuditFilter, maxSeq: number): Promise<number | null> {
    const [first] = await this.repo.list(orgId, filter, 0, 1);
    return first && Number(first.seq) <= maxSeq ? Number(first.seq) : null;
  }

  private async find(orgId: string, id: string): Promise<AuditExportRow> {
    const row = await this.repo.findExport(orgId, id);
    if (!row) throw new AppError('audit.export_not_found', 'no such export');
    return row;
  }
}

export function exportView(row: AuditExportRow): AuditExportView {
  return {
    id: row.id,
    status: row.status as AuditExportView['status'],
    format: row.format as AuditExportView['format'],
    progress: row.progress,
    events: Number(row.events),
    bytes: row.bytes === null ? null : Number(row.bytes),
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
