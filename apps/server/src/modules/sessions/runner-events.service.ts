import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  AppError,
  DeltaEvent,
  type ItemDraft,
  ItemsBatch,
  MAX_BATCH_ITEMS,
  MAX_EVENT_BYTES,
  parseItemDraft,
  RunnerHello,
} from '@yoke/protocol';
import { parseOr } from '../../core/validation';
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { sessionActivity, usageMismatchEvent } from '../audit/session-activity';
import { BudgetLedger } from '../budgets/budget-ledger.service';
import { MetricsService } from '../../core/metrics/metrics.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import type { RunnerIdentity } from '../runners/runners.service';
import { InboxDispatcher } from './inbox.dispatcher';
import { DeltaRelay } from './delta-relay';
import { InboxRepository, type InboxRow } from './inbox.repository';
import { SessionsRepository } from './sessions.repository';
import { SessionViewsService } from './session-views.service';

/**
 * What a runner sends: item batches (validated, authorized, appended exactly once, then fanned out), ephemeral
 * deltas (validated, authorized, fanned out), and its hello after each (re)connect.
 */
@Injectable()
export class RunnerEventsService implements OnModuleDestroy {
  private readonly logger = new Logger(RunnerEventsService.name);
  /** sessionId -> runnerId, for sessions already checked on this replica (deltas are the hot path). */
  private readonly owners = new Map<string, string>();
  /** sessionId -> when its session.updated last went out from this replica. */
  private readonly lastUpdated = new Map<string, number>();
  /** sessionId -> the pending trailing session.updated of a session whose last batches were not published. */
  private readonly trailing = new Map<string, NodeJS.Timeout>();
  /** sessionId -> the end of its batches being stored on this replica: the next batch starts after it. */
  private readonly ingesting = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: SessionsRepository,
    private readonly inbox: InboxRepository,
    private readonly views: SessionViewsService,
    private readonly dispatcher: InboxDispatcher,
    private readonly deltas: DeltaRelay,
    private readonly publisher: RealtimePublisher,
    private readonly metrics: MetricsService,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly budgets: BudgetLedger,
  ) {}

  async hello(runner: RunnerIdentity, payload: unknown) {
    const hello = parseOr(RunnerHello, payload, 'event.invalid');
    const ids = hello.sessions.map((s) => s.sessionId);
    const rows = ids.length ? await this.repo.persistedSeqs(runner.runnerId, ids) : [];
    // Inputs that were never acked go out again, in order; the runner applies each id once.
    void this.dispatcher.redeliver(runner.runnerId);
    return { runnerId: runner.runnerId, sessions: rows.map((r) => ({ sessionId: r.id, persistedSeq: r.lastSeq })) };
  }

  async items(runner: RunnerIdentity, payload: unknown) {
    const started = process.hrtime.bigint();
    // Items are content: a NUL an agent or a command printed is kept (as U+FFFD), not a reason to refuse the batch.
    const batch = parseOr(ItemsBatch, payload, 'event.invalid', 'replace') as ItemsBatch;
    assertSize(payload);
    if (batch.items.length > MAX_BATCH_ITEMS) {
      throw new AppError('event.too_large', `at most ${MAX_BATCH_ITEMS} items per batch`);
    }
    const drafts: ItemDraft[] = batch.items.map((raw, i) => {
      const r = parseItemDraft(raw);
      if (!r.ok) throw new AppError('event.invalid', `item ${i}: ${r.message}`);
      return r.value;
    });
    drafts.forEach((d, i) => {
      if (i > 0 && d.seq !== drafts[i - 1].seq + 1)
        throw new AppError('event.invalid', 'items of a batch must have consecutive seqs');
    });
    // A runner keeps several batches of a session in flight; they are stored one after another, in the order they
    // arrived (the order the runner sent them), instead of racing for the session row's lock.
    const result = await this.inArrivalOrder(batch.sessionId, () => this.store(runner, batch, drafts));
    this.metrics.ingestSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  }

  private inArrivalOrder<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const run = (this.ingesting.get(sessionId) ?? Promise.resolve()).then(work);
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.ingesting.set(sessionId, done);
    void done.then(() => {
      if (this.ingesting.get(sessionId) === done) this.ingesting.delete(sessionId);
    });
    return run;
  }

  private async store(runner: RunnerIdentity, batch: ItemsBatch, drafts: ItemDraft[]) {
    await this.authorize(runner, batch.sessionId);
    // The items and their audit events commit together: when the audit log cannot take them, the batch is refused
    // (the runner keeps it in its outbox and sends it again) and nothing is stored.
    const holds: InboxRow[] = [];
    const { appended, session, lastSeq, changed } = await this.tx.run(async () => {
      const r = await this.repo.appendItems(batch.sessionId, drafts);
      if (r.session) {
        const { orgId, ownerId } = r.session;
        await this.audit.record(
          ...sessionActivity({ orgId, sessionId: batch.sessionId, ownerId, approvals: r.approvals }, r.appended),
          ...r.mismatches.map((m) => usageMismatchEvent({ orgId, sessionId: batch.sessionId, ownerId }, m)),
        );
        // Monthly budgets (modules/budgets): the fresh metered calls count; a cap reached holds the session.
        for (const hold of await this.budgets.settle(r.session, r.appended)) {
          holds.push(await this.inbox.add(orgId, batch.sessionId, hold.input, hold.key));
        }
      }
      return r;
    });
    for (const row of holds) void this.dispatcher.dispatch(runner.runnerId, row);
    if (appended.length > 0) {
      this.deltas.settle(batch.sessionId, appended);
      this.publisher.items(
        batch.sessionId,
        appended.map((d) => ({ ...d, sessionId: batch.sessionId })),
      );
      // Viewers of the session get the items themselves; the session row (status, cost, activity) goes out when
      // it changed, and otherwise at most once a second per session, so lists stay fresh without a write per batch.
      // A batch that is not published is covered by a trailing update at the end of the interval, so the last copy
      // every list holds is the session as stored (its last seq included), however the batches fell.
      if (session && (changed || this.dueForUpdate(batch.sessionId))) {
        await this.publishSession(session.orgId, batch.sessionId);
      } else if (session) {
        this.publishLater(session.orgId, batch.sessionId);
      }
      this.metrics.itemsIngested.inc(appended.length);
    }
    return { lastSeq };
  }

  /**
   * The hot path: a streamed chunk goes straight to the session's room. Synchronous once the session's owner is
   * known on this replica. Delta text is bounded by its schema; the frame by socket.io's maxHttpBufferSize.
   */
  delta(runner: RunnerIdentity, payload: unknown): void | Promise<void> {
    const event = parseOr(DeltaEvent, payload, 'event.invalid', 'replace');
    if (this.owners.get(event.sessionId) === runner.runnerId) return this.relay(event);
    return this.authorize(runner, event.sessionId).then(() => this.relay(event));
  }

  private relay(event: DeltaEvent): void {
    this.deltas.push(event);
  }

  forgetRunner(runnerId: string): void {
    for (const [sessionId, owner] of this.owners) {
      if (owner !== runnerId) continue;
      this.owners.delete(sessionId);
      this.lastUpdated.delete(sessionId);
    }
  }

  onModuleDestroy(): void {
    for (const timer of this.trailing.values()) clearTimeout(timer);
    this.trailing.clear();
  }

  private async publishSession(orgId: string, sessionId: string): Promise<void> {
    clearTimeout(this.trailing.get(sessionId));
    this.trailing.delete(sessionId);
    this.lastUpdated.set(sessionId, Date.now());
    const row = await this.repo.findById(orgId, sessionId);
    if (row) this.publisher.sessionUpdated(this.views.view(row));
  }

  private publishLater(orgId: string, sessionId: string): void {
    if (this.trailing.has(sessionId)) return;
    const wait = Math.max(0, SESSION_UPDATE_INTERVAL_MS - (Date.now() - (this.lastUpdated.get(sessionId) ?? 0)));
    const timer = setTimeout(() => {
      if (this.trailing.get(sessionId) !== timer) return;
      this.publishSession(orgId, sessionId).catch((err: unknown) =>
        this.logger.warn(`session.updated for ${sessionId} not sent: ${String(err)}`),
      );
    }, wait);
    timer.unref();
    this.trailing.set(sessionId, timer);
  }

  private dueForUpdate(sessionId: string): boolean {
    return Date.now() - (this.lastUpdated.get(sessionId) ?? 0) >= SESSION_UPDATE_INTERVAL_MS;
  }

  private async authorize(runner: RunnerIdentity, sessionId: string): Promise<void> {
    if (this.owners.get(sessionId) === runner.runnerId) return;
    const s = await this.repo.findForRunner(sessionId);
    if (!s || s.orgId !== runner.orgId) throw new AppError('session.not_found', 'no such session');
    if (s.runnerId !== runner.runnerId) {
      throw new AppError('event.session_mismatch', 'this session is assigned to another runner');
    }
    this.owners.set(sessionId, runner.runnerId);
  }
}

const SESSION_UPDATE_INTERVAL_MS = 1000;

function assertSize(payload: unknown): void {
  // socket.io already caps a frame at maxHttpBufferSize; this keeps the limit explicit and typed.
  const size = Buffer.byteLength(JSON.stringify(payload ?? null));
  if (size > MAX_EVENT_BYTES)
    throw new AppError('event.too_large', `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`);
}
