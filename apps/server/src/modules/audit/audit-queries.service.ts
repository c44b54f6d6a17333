import { Injectable } from '@nestjs/common';
import type {
  AuditCheckpointView,
  AuditEvent,
  AuditEventsPage,
  AuditEventsQuery,
  AuditEventView,
  AuditKeyView,
} from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { AuditCheckpoints, checkpointView } from './audit-checkpoints.service';
import { AuditKeys } from './audit-keys.service';
import { AuditRepository } from './audit.repository';
import { AuditTrail } from './audit-trail.service';

/** Reading the log: every read of events is itself an event (`audit.read`), in the same transaction as the read. */
@Injectable()
export class AuditQueries {
  constructor(
    private readonly repo: AuditRepository,
    private readonly trail: AuditTrail,
    private readonly signer: AuditCheckpoints,
    private readonly keys: AuditKeys,
  ) {}

  async events(principal: Principal, q: AuditEventsQuery): Promise<AuditEventsPage> {
    const filter = {
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      actor: q.actor,
      action: q.action,
      outcome: q.outcome,
      sessionId: q.sessionId,
    };
    const rows = await this.repo.list(principal.orgId, filter, q.after ?? 0, q.limit);
    const hashes = rows.flatMap((r) => (r.contentHash ? [r.contentHash] : []));
    const contents = new Map(
      (hashes.length ? await this.repo.contents(principal.orgId, hashes) : []).map((c) => [c.hash, c]),
    );
    const events: AuditEventView[] = rows.map((r) => {
      const c = r.contentHash ? contents.get(r.contentHash) : undefined;
      return {
        event: r.event as unknown as AuditEvent,
        leaf: Buffer.from(r.leaf).toString('hex'),
        content: r.contentHash
          ? {
              hash: r.contentHash,
              redacted:
                c?.redactedRule && c.redactedAt ? { rule: c.redactedRule, at: c.redactedAt.toISOString() } : null,
            }
          : null,
      };
    });
    await this.trail.record({
      orgId: principal.orgId,
      action: 'audit.read',
      target: { kind: 'audit_log', id: principal.orgId },
      sessionId: q.sessionId ?? null,
      details: {
        events: events.length,
        ...(q.action ? { action: q.action } : {}),
        ...(q.actor ? { actor: q.actor } : {}),
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
      },
    });
    return {
      events,
      nextAfter: rows.length === q.limit ? Number(rows[rows.length - 1].seq) : null,
    };
  }

  /** Live updates: the socket joins the org's audit room; following the log is a read like any other. */
  async watch(principal: Principal, join: () => Promise<void> | void): Promise<object> {
    await this.trail.record({
      orgId: principal.orgId,
      action: 'audit.read',
      target: { kind: 'audit_log', id: principal.orgId },
      details: { live: true },
    });
    await join();
    return {};
  }

  async checkpoints(orgId: string, limit: number): Promise<AuditCheckpointView[]> {
    const rows = await this.repo.checkpoints(orgId, { limit, desc: true });
    return rows.map(checkpointView);
  }

  /** The log's size and the latest checkpoint that covers it (signed now if events came after the last). */
  async status(orgId: string): Promise<{ size: number; checkpoint: AuditCheckpointView | null }> {
    const size = await this.repo.size(orgId);
    if (size === 0) return { size, checkpoint: null };
    return { size, checkpoint: checkpointView(await this.signer.current(orgId)) };
  }

  keysPublished(): Promise<AuditKeyView[]> {
    return this.keys.published();
  }
}
