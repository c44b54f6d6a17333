import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { canonicalJson, contentHash } from '@yoke/audit';
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
import { AuditRepository, type PreparedEvent } from './audit.repository';

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
      const { prepared, contents, events } = this.prepare(orgId, list);
      let firstSeq: number;
      let at: string;
      try {
        ({ firstSeq, at } = await this.repo.append(orgId, prepared, contents));
      } catch (err) {
        if (err instanceof AppError) throw err;
        this.logger.error({ err, orgId, actions: list.map((e) => e.action) }, 'audit append failed');
        throw new AppError('audit.unavailable', 'the audit log could not record this action, so nothing was changed');
      }
      events.forEach((e, i) => {
        e.seq = firstSeq + i;
        e.at = at;
      });
      const size = firstSeq + events.length - 1;
      this.tx.afterCommit(() => {
        this.publisher.auditAppended(orgId, events);
        for (const l of this.listeners) l(orgId, size);
      });
    }
  }

  /** The events of `raw`, ready for the one append statement (their seqs are filled in by Postgres). */
  private prepare(orgId: string, raw: AuditEntry[]) {
    const origin = this.context.current();
    // Postgres jsonb refuses lone UTF-16 surrogates (text columns turn them into U+FFFD): the event and its content
    // are made well-formed before they are hashed, so what is stored is exactly what the leaf commits to.
    const entries = raw.map((e) => wellFormed(e));
    const contents = new Map<string, unknown>();
    const events: AuditEvent[] = [];
    const prepared: PreparedEvent[] = entries.map((e) => {
      const hash = e.content === undefined ? null : contentHash(e.content);
      if (hash) contents.set(hash, e.content);
      const event: AuditEvent = {
        schema: AUDIT_SCHEMA,
        id: randomUUID(),
        orgId,
        seq: SEQ_PLACEHOLDER,
        at: AT_PLACEHOLDER,
        actor: e.actor ?? origin?.actor ?? SYSTEM_ACTOR,
        action: e.action,
        target: e.target,
        outcome: e.outcome ?? 'success',
        requestId: origin?.requestId ?? null,
        ip: origin?.ip ?? null,
        userAgent: origin?.userAgent ?? null,
        sessionId: e.sessionId ?? null,
        turnId: e.turnId ?? null,
        contentHash: hash,
        details: e.details ?? {},
      };
      events.push(event);
      const [head, middle, suffix] = splitAtTimeAndSeq(canonicalJson(event));
      return {
        id: event.id,
        actorKind: event.actor.kind,
        actorId: event.actor.id,
        action: event.action,
        outcome: event.outcome,
        sessionId: event.sessionId,
        contentHash: hash,
        head,
        middle,
        suffix,
      };
    });
    return { prepared, contents: [...contents].map(([hash, body]) => ({ hash, body })), events };
  }
}

/** Values no event holds, whose text marks where the real seq and time go in the event's canonical JSON. */
const SEQ_PLACEHOLDER = Number.MAX_SAFE_INTEGER;
const AT_PLACEHOLDER = '@yoke-audit-time@';
const SEQ_MARK = `"seq":${SEQ_PLACEHOLDER},`;
const AT_MARK = `"at":"${AT_PLACEHOLDER}"`;

/**
 * The canonical text cut around the time's and the seq's values: `head` ends with `"at":"`, `middle` runs from the
 * closing quote to `"seq":`, `suffix` from the comma after the seq. Top-level keys are sorted, so `at` comes first.
 */
function splitAtTimeAndSeq(text: string): [string, string, string] {
  const at = text.indexOf(AT_MARK);
  const seq = text.indexOf(SEQ_MARK);
  if (at < 0 || seq < at || text.indexOf(AT_MARK, at + 1) >= 0 || text.indexOf(SEQ_MARK, seq + 1) >= 0) {
    throw new Error('an audit event must carry its time and seq once');
  }
  const timeStart = at + '"at":"'.length;
  const seqStart = seq + '"seq":'.length;
  return [
    text.slice(0, timeStart),
    text.slice(timeStart + AT_PLACEHOLDER.length, seqStart),
    text.slice(seqStart + String(SEQ_PLACEHOLDER).length),
  ];
}

/** What jsonb cannot hold: lone UTF-16 surrogates and NUL. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/g;

/** The value with every string made storable as jsonb: lone surrogates and NUL become U+FFFD. */
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
