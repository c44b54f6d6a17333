import { Injectable } from '@nestjs/common';
import {
  type Actor,
  AppError,
  type CancelBody,
  type ContentPart,
  HarnessName,
  type InboxInput,
  type InputAccepted,
  type SendMessageBody,
  type Session,
} from '@yoke/protocol';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../core/auth/principal';
import { traceField } from '../../core/telemetry/trace-context';
import { Transactions } from '../../core/prisma/transactions';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { type AuditEntry, AuditTrail } from '../audit/audit-trail.service';
import { InboxDispatcher } from './inbox.dispatcher';
import { InboxRepository, type InboxRow } from './inbox.repository';
import { SessionsRepository } from './sessions.repository';
import { SessionQueriesService } from './session-queries.service';
import { SessionViewsService } from './session-views.service';
import { toQueuedPrompt } from './session.mapper';

/** Inputs for a session's runner: a principal's messages and cancels, and any stored input delivered at least once. */
@Injectable()
export class SessionInputsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly inbox: InboxRepository,
    private readonly queries: SessionQueriesService,
    private readonly dispatcher: InboxDispatcher,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
    private readonly views: SessionViewsService,
    private readonly publisher: RealtimePublisher,
  ) {}

  /**
   * Queues a prompt. Its audit event (`session.prompt`, the text as content) is recorded with the `user_message` item
   * the runner writes when the prompt enters the session's log, in that item's transaction: one event per prompt,
   * including the first prompt of a new session and a delegated task.
   *
   * A message may also switch the session's harness and/or model from its turn on (whoever may drive may switch): the
   * session records them at once (every viewer gets `session.updated`) and the runner switches when the turn starts,
   * saying so in a `notice` item. An unknown harness is refused (422 `harness.unknown`) and nothing is queued.
   */
  async sendMessage(p: Principal, id: string, body: SendMessageBody): Promise<InputAccepted> {
    const content: ContentPart[] = body.content ?? (body.text ? [{ type: 'text', text: body.text }] : []);
    if (content.length === 0) throw new AppError('request.invalid', 'a message needs `text` or `content`');
    const idempotencyKey = body.idempotencyKey;
    const session = await this.queries.get(p, id, 'drive');
    if (session.status === 'archived') throw new AppError('session.archived', 'the session is archived');
    const harness = body.harness === undefined ? undefined : harnessOf(body.harness);
    const input: InboxInput = {
      kind: 'message',
      content,
      actor: actorOf(p),
      ...traceField(),
      ...(harness !== undefined ? { harness } : {}),
      ...(body.model !== undefined ? { model: body.model } : {}),
    };
    const runtime = { harness: harness ?? session.harness, model: body.model ?? session.model };
    if (runtime.harness === session.harness && runtime.model === session.model) {
      return this.enqueueInput(session, input, idempotencyKey);
    }
    const { row, updated } = await this.tx.run(async () => {
      const stored = await this.storeInput(session, input, idempotencyKey);
      return { row: stored, updated: await this.repo.setRuntime(session.orgId, session.id, runtime) };
    });
    const view = this.views.view(updated);
    this.publisher.sessionUpdated(view);
    return this.deliver(view, row);
  }

  async cancel(p: Principal, id: string, body: CancelBody): Promise<InputAccepted> {
    const session = await this.queries.get(p, id, 'drive');
    return this.enqueueInput(session, { kind: 'cancel', actor: actorOf(p) }, body.idempotencyKey, {
      orgId: session.orgId,
      action: 'session.cancelled',
      target: { kind: 'session', id: session.id },
      sessionId: session.id,
      details: { status: session.status },
    });
  }

  /**
   * Stores an input for the session's runner (idempotent by key) with its audit events, in one transaction, then
   * delivers it at least once.
   */
  async enqueueInput(
    session: Session,
    input: InboxInput,
    idempotencyKey: string | undefined,
    ...events: AuditEntry[]
  ): Promise<InputAccepted> {
    // With nothing to audit alongside (a prompt is audited when its runner records it), the input is one statement.
    const row =
      events.length === 0
        ? await this.storeInput(session, input, idempotencyKey)
        : await this.tx.run(async () => {
            const stored = await this.storeInput(session, input, idempotencyKey);
            await this.audit.record(...events);
            return stored;
          });
    return this.deliver(session, row);
  }

  /** Stores an input for the session's runner, idempotent by key: in the caller's transaction when there is one. */
  async storeInput(session: Session, input: InboxInput, idempotencyKey: string | undefined): Promise<InboxRow> {
    if (!session.runnerId) throw new AppError('runner.not_found', 'the session has no runner');
    return this.inbox.add(session.orgId, session.id, input, idempotencyKey ?? randomUUID());
  }

  /**
   * Hands a stored input to its runner (once committed): delivered now, or again when the runner reconnects. A prompt
   * left queued is shown to every viewer of the session, who may withdraw it until it is delivered.
   */
  async deliver(session: Session, row: InboxRow): Promise<InputAccepted> {
    if (row.deliveredAt) return { inboxId: row.id, delivered: true };
    const delivered = session.runnerId ? await this.dispatcher.dispatch(session.runnerId, row) : false;
    if (!delivered && row.kind === 'message') {
      this.publisher.toSession(session.id, 'session.queue_changed', {
        change: 'queued',
        sessionId: session.id,
        prompt: toQueuedPrompt(row),
      });
    }
    return { inboxId: row.id, delivered };
  }
}

/** A harness a message switches to: one Yoke knows (`HarnessName`), else a 422 that names them. */
function harnessOf(name: string): HarnessName {
  const parsed = HarnessName.safeParse(name);
  if (parsed.success) return parsed.data;
  const known = HarnessName.options[0].options.join(', ');
  throw new AppError('harness.unknown', `unknown harness "${name.slice(0, 100)}": expected ${known} or acp:<command>`);
}

/** Who sends an input, as the session's items will carry it: a link guest is marked so (its id is its grant). */
export function actorOf(p: Principal): Actor {
  return p.scope ? { id: p.userId, name: p.name, kind: 'guest' } : { id: p.userId, name: p.name };
}
