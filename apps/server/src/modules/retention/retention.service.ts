import { Injectable } from '@nestjs/common';
import {
  AppError,
  type HoldRef,
  type LegalHoldBody,
  type LegalHoldView,
  type RetentionPreview,
  type RetentionRunResult,
  type RetentionSettingsView,
  type UpdateRetentionBody,
} from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { type ActiveHolds, type LegalHoldRow, RetentionRepository } from './retention.repository';
import { emptyCounts, planOf, RetentionSweep } from './retention-sweep.use-case';

/** Sessions listed by name in a dry-run (the counts cover every one). */
export const PREVIEW_SESSIONS = 200;

/**
 * An org's retention settings and legal holds, the dry-run of a sweep, and a sweep run now. Every change commits with
 * its audit event; so do the dry-run and the list of holds (they reveal what the org keeps and why).
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly repo: RetentionRepository,
    private readonly sweep: RetentionSweep,
    private readonly trail: AuditTrail,
    private readonly tx: Transactions,
  ) {}

  async settings(orgId: string): Promise<RetentionSettingsView> {
    const row = await this.repo.findSettings(orgId);
    return {
      sessionContentDays: row?.sessionContentDays ?? null,
      auditContentDays: row?.auditContentDays ?? null,
      updatedAt: row?.updatedAt.toISOString() ?? null,
      updatedBy: row?.updatedBy ?? null,
    };
  }

  async update(p: Principal, body: UpdateRetentionBody): Promise<RetentionSettingsView> {
    return this.tx.run(async () => {
      const before = await this.settings(p.orgId);
      await this.repo.upsertSettings(p.orgId, body, p.userId);
      await this.trail.record({
        orgId: p.orgId,
        action: 'retention.updated',
        target: { kind: 'org', id: p.orgId },
        details: {
          sessionContentDays: body.sessionContentDays,
          auditContentDays: body.auditContentDays,
          previousSessionContentDays: before.sessionContentDays,
          previousAuditContentDays: before.auditContentDays,
        },
      });
      return this.settings(p.orgId);
    });
  }

  async holds(p: Principal, includeReleased: boolean): Promise<LegalHoldView[]> {
    return this.tx.run(async () => {
      const rows = await this.repo.listHolds(p.orgId, includeReleased);
      const labels = await this.repo.labels(p.orgId, rows);
      await this.trail.record({
        orgId: p.orgId,
        action: 'legal_hold.read',
        target: { kind: 'org', id: p.orgId },
        details: { holds: rows.length, includeReleased },
      });
      return rows.map((h) => holdView(h, labels));
    });
  }

  async place(p: Principal, body: LegalHoldBody): Promise<LegalHoldView> {
    return this.tx.run(async () => {
      await this.assertTarget(p.orgId, body);
      // A sweep round in progress finishes first; every later round sees this hold.
      await this.repo.lockOrg(p.orgId);
      const row = await this.repo.createHold({ orgId: p.orgId, createdBy: p.userId, ...body });
      const labels = await this.repo.labels(p.orgId, [row]);
      await this.trail.record({
        orgId: p.orgId,
        action: 'legal_hold.placed',
        target: { kind: 'legal_hold', id: row.id },
        sessionId: body.scope === 'session' ? body.targetId : null,
        details: { scope: body.scope, targetId: body.targetId },
        // The reason is the holder's words: stored apart, like other content.
        content: { reason: body.reason },
      });
      return holdView(row, labels);
    });
  }

  async release(p: Principal, id: string): Promise<LegalHoldView> {
    return this.tx.run(async () => {
      const found = await this.repo.findHold(p.orgId, id);
      if (!found) throw new AppError('retention.hold_not_found', 'no such legal hold');
      let row = found;
      if (!found.releasedAt) {
        row = await this.repo.releaseHold(p.orgId, id, p.userId);
        await this.trail.record({
          orgId: p.orgId,
          action: 'legal_hold.released',
          target: { kind: 'legal_hold', id },
          sessionId: row.scope === 'session' ? row.targetId : null,
          details: { scope: row.scope, targetId: row.targetId },
        });
      }
      return holdView(row, await this.repo.labels(p.orgId, [row]));
    });
  }

  /**
   * What a sweep would erase now, and what the holds keep: the sweep's own conditions, counted. Read outside a
   * transaction (over a large org it takes longer than one may stay open); the read is then recorded.
   */
  async preview(p: Principal, now = new Date()): Promise<RetentionPreview> {
    const settings = await this.settings(p.orgId);
    const plan = planOf(settings, now);
    const holds = await this.repo.activeHolds(p.orgId);
    const counts = emptyCounts();
    let sessions: RetentionPreview['sessions'] = [];
    let truncated = false;
    let heldSessions: RetentionPreview['held']['sessions'] = [];
    let heldAudit = 0;
    if (plan.sessionCutoff) {
      for (const { type, n } of await this.repo.dueItemCounts(p.orgId, plan.sessionCutoff, holds)) {
        counts.itemsByType[type] = Number(n);
        counts.sessionItems += Number(n);
      }
      const due = await this.repo.dueSessions(p.orgId, plan.sessionCutoff, holds, PREVIEW_SESSIONS);
      counts.sessions = Number(due[0]?.total ?? 0);
      truncated = counts.sessions > due.length;
      sessions = due.map((s) => ({
        id: s.id,
        title: s.title,
        ownerId: s.owner_id,
        lastActivityAt: s.updated_at.toISOString(),
        items: Number(s.items),
      }));
      counts.inboxEntries = await this.repo.dueInboxCount(p.orgId, plan.sessionCutoff, holds);
      const held = await this.repo.heldSessions(p.orgId, plan.sessionCutoff, holds, PREVIEW_SESSIONS);
      heldSessions = held.map((s) => ({ id: s.id, title: s.title, holds: holdsOver(holds, s.id, s.owner_id) }));
    }
    if (plan.auditCutoff) {
      const { due, held } = await this.repo.dueAuditContents(p.orgId, plan.auditCutoff, holds);
      counts.auditContents = holds.org ? 0 : due.length;
      heldAudit = holds.org ? due.length + held : held;
    }
    await this.trail.record({
      orgId: p.orgId,
      action: 'retention.previewed',
      target: { kind: 'org', id: p.orgId },
      details: {
        sessionItems: counts.sessionItems,
        sessions: counts.sessions,
        inboxEntries: counts.inboxEntries,
        auditContents: counts.auditContents,
      },
    });
    return {
      settings: { sessionContentDays: settings.sessionContentDays, auditContentDays: settings.auditContentDays },
      sessionCutoff: plan.sessionCutoff?.toISOString() ?? null,
      auditCutoff: plan.auditCutoff?.toISOString() ?? null,
      counts,
      sessions,
      truncated,
      held: { sessions: heldSessions, auditContents: heldAudit, holds: holds.rows.map(holdRef) },
    };
  }

  /** Runs the sweep now, then records who asked and what it erased. */
  async runNow(p: Principal): Promise<RetentionRunResult> {
    const result = await this.sweep.run(p.orgId);
    await this.trail.record({
      orgId: p.orgId,
      action: 'retention.run',
      target: { kind: 'org', id: p.orgId },
      details: {
        sessionItems: result.counts.sessionItems,
        sessions: result.counts.sessions,
        inboxEntries: result.counts.inboxEntries,
        auditContents: result.counts.auditContents,
      },
    });
    return result;
  }

  /** The target of a hold must be this org, a member of it, or one of its sessions; anything else is not found. */
  private async assertTarget(orgId: string, body: LegalHoldBody): Promise<void> {
    if (body.scope === 'org' && body.targetId !== orgId) throw new AppError('org.not_found', 'no such org');
    if (body.scope === 'user' && !(await this.repo.isMember(orgId, body.targetId))) {
      throw new AppError('member.not_found', 'no such member');
    }
    if (body.scope === 'session' && !(await this.repo.hasSession(orgId, body.targetId))) {
      throw new AppError('session.not_found', 'no such session');
    }
  }
}

function holdRef(h: LegalHoldRow): HoldRef {
  return { id: h.id, scope: h.scope as HoldRef['scope'], targetId: h.targetId };
}

/** The active holds that keep one session: the org's, its owner's, its own. */
function holdsOver(holds: ActiveHolds, sessionId: string, ownerId: string): HoldRef[] {
  return holds.rows
    .filter(
      (h) =>
        h.scope === 'org' ||
        (h.scope === 'user' && h.targetId === ownerId) ||
        (h.scope === 'session' && h.targetId === sessionId),
    )
    .map(holdRef);
}

function holdView(h: LegalHoldRow, labels: Map<string, string>): LegalHoldView {
  return {
    id: h.id,
    scope: h.scope as LegalHoldView['scope'],
    targetId: h.targetId,
    targetLabel: labels.get(h.targetId) ?? h.targetId,
    reason: h.reason,
    createdBy: h.createdBy,
    createdAt: h.createdAt.toISOString(),
    releasedAt: h.releasedAt?.toISOString() ?? null,
    releasedBy: h.releasedBy ?? null,
  };
}
