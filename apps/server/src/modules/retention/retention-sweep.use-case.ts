import { Injectable, Logger } from '@nestjs/common';
import {
  eraseItemBody,
  erasureMarker,
  ItemBody,
  type RetentionCounts,
  type RetentionRunResult,
  type RetentionSettings,
  retentionRule,
} from '@yoke/protocol';
import { Transactions } from '../../core/prisma/transactions';
import { AuditRepository } from '../audit/audit.repository';
import { AuditTrail } from '../audit/audit-trail.service';
import { type ActiveHolds, type DueItem, RetentionRepository, type SessionCursor } from './retention.repository';

/** Items or audit contents erased per transaction: each round is one transaction and one event. */
export const SWEEP_BATCH = 1_000;
const DAY_MS = 86_400_000;

/** What is due at `now` under an org's settings: content older than each cutoff (null: kept forever). */
export type RetentionPlan = {
  settings: RetentionSettings;
  sessionCutoff: Date | null;
  auditCutoff: Date | null;
};

export function planOf(settings: RetentionSettings, now: Date): RetentionPlan {
  const cutoff = (days: number | null) => (days === null ? null : new Date(now.getTime() - days * DAY_MS));
  return {
    settings,
    sessionCutoff: cutoff(settings.sessionContentDays),
    auditCutoff: cutoff(settings.auditContentDays),
  };
}

export const emptyCounts = (): RetentionCounts => ({
  itemsByType: {},
  sessionItems: 0,
  sessions: 0,
  inboxEntries: 0,
  auditContents: 0,
});

/** Sessions walked per page, and log seqs scanned per window, outside any transaction. */
export const SESSION_PAGE = 200;
export const SEQ_WINDOW = 20_000;

type RoundCounts = { items: { session_id: string; type: string }[]; inboxEntries: number; auditContents: number };

/**
 * One retention sweep of an org: session content of sessions idle past `sessionContentDays` is replaced in place by
 * the erasure marker (items stay valid items of their type), their message inputs likewise, and audit content past
 * `auditContentDays` is redacted (the events, and so the log's leaves, never change). Nothing a legal hold covers is
 * touched.
 *
 * Candidates are found outside any transaction (a page of idle sessions, a window of the log's seqs), so the work of a
 * transaction stays small whatever the org's size. Each round then erases at most SWEEP_BATCH of them in one
 * transaction under the org's retention lock, re-checking each candidate against the holds read under that lock (a
 * hold placed meanwhile waits for the round, then holds) and against the cutoff, and records one `retention.erased`
 * event with its counts — never content. Idempotent: erased items are marked, redacted contents skipped, and a round
 * that erases nothing records nothing.
 */
@Injectable()
export class RetentionSweep {
  private readonly logger = new Logger(RetentionSweep.name);

  constructor(
    private readonly repo: RetentionRepository,
    private readonly audit: AuditRepository,
    private readonly trail: AuditTrail,
    private readonly tx: Transactions,
  ) {}

  async run(orgId: string, now = new Date()): Promise<RetentionRunResult> {
    const row = await this.repo.findSettings(orgId);
    const settings = {
      sessionContentDays: row?.sessionContentDays ?? null,
      auditContentDays: row?.auditContentDays ?? null,
    };
    const plan = planOf(settings, now);
    const total = emptyCounts();
    const sessions = new Set<string>();
    if (plan.sessionCutoff) await this.sweepSessions(orgId, plan.sessionCutoff, settings, now, total, sessions);
    if (plan.auditCutoff && settings.auditContentDays !== null) {
      await this.sweepAudit(orgId, plan.auditCutoff, settings, now, total);
    }
    total.sessions = sessions.size;
    if (total.sessionItems + total.inboxEntries + total.auditContents > 0) {
      this.logger.log({ orgId, counts: total }, 'retention erased content');
    }
    return { counts: total, at: now.toISOString() };
  }

  private async sweepSessions(
    orgId: string,
    cutoff: Date,
    settings: RetentionSettings,
    now: Date,
    total: RetentionCounts,
    sessions: Set<string>,
  ): Promise<void> {
    const marker = erasureMarker(now);
    let after: SessionCursor | null = null;
    for (;;) {
      const page = await this.repo.dueSessionPage(
        orgId,
        cutoff,
        await this.repo.activeHolds(orgId),
        after,
        SESSION_PAGE,
      );
      if (page.length === 0) return;
      const last = page[page.length - 1];
      after = { updatedAt: last.updated_at, id: last.id };
      const ids = page.map((s) => s.id);
      let inboxDone = false;
      for (;;) {
        const due = await this.repo.unerasedItems(orgId, ids, SWEEP_BATCH);
        if (due.length === 0 && inboxDone) break;
        const rows = due.map((d) => this.erased(orgId, d, marker));
        const r = await this.round(orgId, settings, async (holds) => ({
          items: await this.repo.eraseItems(orgId, cutoff, holds, rows, now),
          inboxEntries: inboxDone ? 0 : await this.repo.eraseInbox(orgId, cutoff, holds, ids, marker, now),
          auditContents: 0,
        }));
        inboxDone = true;
        for (const e of r.items) {
          total.itemsByType[e.type] = (total.itemsByType[e.type] ?? 0) + 1;
          sessions.add(e.session_id);
        }
        total.sessionItems += r.items.length;
        total.inboxEntries += r.inboxEntries;
        // Fewer erased than found: a hold or new activity took some out; the rest of them stays for good.
        if (due.length < SWEEP_BATCH || r.items.length < due.length) break;
      }
      if (page.length < SESSION_PAGE) return;
    }
  }

  private async sweepAudit(
    orgId: string,
    cutoff: Date,
    settings: RetentionSettings,
    now: Date,
    total: RetentionCounts,
  ): Promise<void> {
    const rule = retentionRule(settings.auditContentDays ?? 0);
    const last = await this.repo.lastSeqBefore(orgId, cutoff);
    for (let lo = 0; lo < last; lo += SEQ_WINDOW) {
      const candidates = await this.repo.contentsNamedIn(orgId, lo, Math.min(lo + SEQ_WINDOW, last));
      for (let i = 0; i < candidates.length; i += SWEEP_BATCH) {
        const batch = candidates.slice(i, i + SWEEP_BATCH);
        const r = await this.round(orgId, settings, async (holds) => ({
          items: [],
          inboxEntries: 0,
          auditContents: await this.audit.redactContents(
            orgId,
            await this.repo.dueContentsAmong(orgId, cutoff, holds, batch),
            rule,
            now,
          ),
        }));
        total.auditContents += r.auditContents;
      }
    }
  }

  /** One transaction under the org's retention lock: erases with the holds in force now, and records the counts. */
  private round(
    orgId: string,
    settings: RetentionSettings,
    erase: (holds: ActiveHolds) => Promise<RoundCounts>,
  ): Promise<RoundCounts> {
    return this.tx.run(async () => {
      await this.repo.lockOrg(orgId);
      const holds = await this.repo.activeHolds(orgId);
      const r = await erase(holds);
      if (r.items.length + r.inboxEntries + r.auditContents > 0) {
        await this.trail.record({
          orgId,
          action: 'retention.erased',
          target: { kind: 'org', id: orgId },
          details: {
            sessionItems: r.items.length,
            sessions: new Set(r.items.map((e) => e.session_id)).size,
            inboxEntries: r.inboxEntries,
            auditContents: r.auditContents,
            sessionContentDays: settings.sessionContentDays,
            auditContentDays: settings.auditContentDays,
          },
        });
      }
      return r;
    });
  }

  /**
   * An item with its body replaced by the marker, checked as an item of its type. A stored body the schema no longer
   * reads is erased all the same (its content fields replaced), with a warning: content past its retention never
   * stays because of its shape.
   */
  private erased(orgId: string, d: DueItem, marker: string): DueItem {
    const stored = ItemBody.safeParse(d.body);
    const erased = eraseItemBody(stored.success ? stored.data : (d.body as ItemBody), marker);
    const checked = ItemBody.safeParse(erased);
    if (!checked.success) {
      this.logger.warn({ orgId, sessionId: d.sessionId, seq: d.seq }, 'erased an item the schema does not read');
    }
    return { sessionId: d.sessionId, seq: d.seq, body: checked.success ? checked.data : erased };
  }
}
