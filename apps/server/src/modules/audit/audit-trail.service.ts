import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { contentHash, eventLeaf } from '@yoke/audit';
import {
  AppError,
  AUDIT_SCHEMA,
  type AuditActor,
  type AuditDetails,
  type AuditEvent,
  type AuditOutcome,
  type AuditTarget,
} from '@yoke/protocol';
import { Transactions } from '../../core/prisma/transactions';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { AuditContext } from './audit-context';
import { AuditRepository, type StoredEvent } from './audit.repository';

/** What a service records; the trail adds id, seq, time and the request's origin (actor, request id, IP, agent). */
export type AuditEntry = {
  orgId: string;
  action: string;
  target: AuditTarget;
  outcome?: AuditOutcome;
  /** Defaults to the actor of the request or socket event being handled, else the system. */
  actor?: AuditActor;
  sessionId?: string | null;
  turnId?: string | null;
  details?: AuditDetails;
  /** Prompt text, a command, tool input or output: stored apart, referenced by its hash. */
  content?: unknown;
};

export const SYSTEM_ACTOR: AuditActor = { kind: 'system', id: 'yoke' };

/**
 * The one way into the audit log. `record` appends inside the caller's transaction (Transactions.run), so the
 * change and its events commit together; when the append fails, it throws `audit.unavailable` and the whole
 * transaction, the change with it, rolls back (fail closed). Outside a transaction it opens its own, for events that
 * stand alone (a failed sign-in, an audit read).
 */
@Injectable()
export class AuditTrail {
  private readonly logger = new Logger(AuditTrail.name);
  private readonly listeners: ((orgId: string, size: number) => void)[] = [];

  constructor(
    private readonly repo: AuditRepository,
    private readonly tx: Transactions,
    private readonly context: AuditContext,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** Called after each commit that appended to an org's log (the checkpointer counts events with it). */
  onAppended(listener: (orgId: string, size: number) => void): void {
    this.listeners.push(listener);
  }

  async record(...entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (!this.tx.isActive) return this.tx.run(() => this.record(...entries));
    const byOrg = new Map<string, AuditEntry[]>();
    for (const e of entries) byOrg.set(e.orgId, [...(byOrg.get(e.orgId) ?? []), e]);
    for (const [orgId, list] of byOrg) {
      let stored: StoredEvent[];
      try {
        stored = await this.repo.append(orgId, list.length, (firstSeq) => this.build(orgId, firstSeq, list));
      } catch (err) {
        if (err instanceof AppError) throw err;
        this.logger.error({ err, orgId, actions: list.map((e) => e.action) }, 'audit append failed');
        throw new AppError('audit.unavailable', 'the audit log could not record this action, so nothing was changed');
      }
      const size = stored[stored.length - 1].event.seq;
      this.tx.afterCommit(() => {
        this.publisher.auditAppended(
          orgId,
          stored.map((s) => s.event),
        );
        for (const l of this.listeners) l(orgId, size);
      });
    }
  }

  private build(orgId: string, firstSeq: number, raw: AuditEntry[]): StoredEvent[] {
    const origin = this.context.current();
    // Postgres jsonb refuses lone UTF-16 surrogates (text columns turn them into U+FFFD): the event and its content
    // are made well-formed before they are hashed, so what is stored is exactly what the leaf commits to.
    const entries = raw.map((e) => wellFormed(e));
    // Taken under the head lock: times follow seqs.
    const at = new Date().toISOString();
    return entries.map((e, i) => {
      const content =
        e.content === undefined ? undefined : { hash: contentHash(e.content), body: e.content as unknown };
      const event: AuditEvent = {
        schema: AUDIT_SCHEMA,
        id: randomUUID(),
        orgId,
        seq: firstSeq + i,
        at,
        actor: e.actor ?? origin?.actor ?? SYSTEM_ACTOR,
        action: e.action,
        target: e.target,
        outcome: e.outcome ?? 'success',
        requestId: origin?.requestId ?? null,
        ip: origin?.ip ?? null,
        userAgent: origin?.userAgent ?? null,
        sessionId: e.sessionId ?? null,
        turnId: e.turnId ?? null,
        contentHash: content?.hash ?? null,
        details: e.details ?? {},
      };
      return { event, leaf: eventLeaf(event), content };
    });
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The value with every string made well-formed UTF-16 (a lone surrogate becomes U+FFFD), as jsonb stores it. */
function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\ufffd') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => wellFormed(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k.replace(LONE_SURROGATE, '\ufffd')] = wellFormed(v);
    return out as T;
  }
  return value;
}
