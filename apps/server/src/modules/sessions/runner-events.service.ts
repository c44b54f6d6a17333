import { Injectable } from '@nestjs/common';
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
import { MetricsService } from '../../core/metrics/metrics.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import type { RunnerIdentity } from '../runners/runners.service';
import { InboxDispatcher } from './inbox.dispatcher';
import { PartialStore } from './partial-store';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/**
 * What a runner sends: item batches (validated, authorized, appended exactly once, then fanned out), ephemeral
 * deltas (validated, authorized, fanned out), and its hello after each (re)connect.
 */
@Injectable()
export class RunnerEventsService {
  /** sessionId -> runnerId, for sessions already checked on this replica (deltas are the hot path). */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly repo: SessionsRepository,
    private readonly sessions: SessionsService,
    private readonly dispatcher: InboxDispatcher,
    private readonly partials: PartialStore,
    private readonly publisher: RealtimePublisher,
    private readonly metrics: MetricsService,
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
    assertSize(payload);
    const batch = parseOr(ItemsBatch, payload, 'event.invalid') as ItemsBatch;
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
    await this.authorize(runner, batch.sessionId);
    const { appended, session, lastSeq } = await this.repo.appendItems(batch.sessionId, drafts);
    if (appended.length > 0) {
      this.partials.settle(batch.sessionId, appended);
      this.publisher.items(
        batch.sessionId,
        appended.map((d) => ({ ...d, sessionId: batch.sessionId })),
      );
      if (session) this.publisher.sessionUpdated(this.sessions.view(session));
      this.metrics.itemsIngested.inc(appended.length);
    }
    this.metrics.ingestSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return { lastSeq };
  }

  async delta(runner: RunnerIdentity, payload: unknown): Promise<void> {
    // Delta text is bounded by its schema; the frame by socket.io's maxHttpBufferSize.
    const event = parseOr(DeltaEvent, payload, 'event.invalid');
    await this.authorize(runner, event.sessionId);
    this.partials.apply(event.sessionId, event.delta);
    this.publisher.delta(event);
    this.metrics.deltasRelayed.inc();
  }

  forgetRunner(runnerId: string): void {
    for (const [sessionId, owner] of this.owners) if (owner === runnerId) this.owners.delete(sessionId);
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

function assertSize(payload: unknown): void {
  // socket.io already caps a frame at maxHttpBufferSize; this keeps the limit explicit and typed.
  const size = Buffer.byteLength(JSON.stringify(payload ?? null));
  if (size > MAX_EVENT_BYTES)
    throw new AppError('event.too_large', `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`);
}
