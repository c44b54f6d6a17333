import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AppError,
  type AuditSinkTestResult,
  type AuditSinkView,
  type CreateAuditSinkBody,
  type CreatedAuditSink,
  type UpdateAuditSinkBody,
} from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { SecretBox } from '../../core/auth/secret-box';
import { Transactions } from '../../core/prisma/transactions';
import { AuditRepository } from './audit.repository';
import { AuditSinkDelivery } from './audit-sink-delivery.processor';
import { sinkView } from './audit-sink-view';
import { sendOtlpLogsTest, sendWebhookTest, SinkRefused } from './audit-sink-senders';
import { AuditSinksRepository } from './audit-sinks.repository';
import { AuditTrail } from './audit-trail.service';

/**
 * The org's audit sinks: owners and admins make, change and remove them (each change an audit event in its
 * transaction); auditors see them and how far each got. A webhook's secret is sealed at rest and shown once.
 */
@Injectable()
export class AuditSinks {
  constructor(
    private readonly repo: AuditSinksRepository,
    private readonly log: AuditRepository,
    private readonly box: SecretBox,
    private readonly tx: Transactions,
    private readonly trail: AuditTrail,
    private readonly delivery: AuditSinkDelivery,
  ) {}

  async list(orgId: string): Promise<AuditSinkView[]> {
    const [rows, size] = await Promise.all([this.repo.list(orgId), this.log.size(orgId)]);
    return rows.map((r) => sinkView(r, size));
  }

  async create(principal: Principal, body: CreateAuditSinkBody): Promise<CreatedAuditSink> {
    const orgId = principal.orgId;
    let secret: string | null = null;
    let generated = false;
    if (body.kind === 'webhook') {
      if (!this.box.isConfigured) {
        throw new AppError(
          'auth.sso_not_configured',
          'a webhook sink needs YOKE_SECRET_KEY on the server to keep its signing secret',
        );
      }
      generated = body.secret === undefined;
      secret = body.secret ?? `yws_${randomBytes(32).toString('base64url')}`;
    } else if (body.secret !== undefined) {
      throw new AppError('request.invalid', 'an OTLP logs sink takes no secret', { field: 'secret' });
    }
    const { row, size } = await this.tx.run(async () => {
      // From now on by default: the event of this very change is the first the sink receives.
      const cursor = body.fromSeq !== undefined ? body.fromSeq - 1 : await this.log.size(orgId);
      const created = await this.repo.create({
        orgId,
        name: body.name,
        kind: body.kind,
        url: body.url,
        format: body.format,
        secretEnc: secret === null ? null : this.box.encrypt(secret),
        cursor,
      });
      await this.trail.record({
        orgId,
        action: 'audit_sink.created',
        target: { kind: 'audit_sink', id: created.id, name: created.name },
        details: { kind: body.kind, url: body.url, format: body.format, fromSeq: cursor + 1 },
      });
      return { row: created, size: await this.log.size(orgId) };
    });
    this.delivery.forget(orgId);
    await this.delivery.enqueue(orgId, row.id);
    return { sink: sinkView(row, size), secret: generated ? secret : null };
  }

  async update(principal: Principal, id: string, body: UpdateAuditSinkBody): Promise<AuditSinkView> {
    const orgId = principal.orgId;
    const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    const { row, size } = await this.tx.run(async () => {
      const updated = await this.repo.update(orgId, id, changes);
      if (!updated) throw notFound();
      await this.trail.record({
        orgId,
        action: 'audit_sink.updated',
        target: { kind: 'audit_sink', id, name: updated.name },
        details: changes,
      });
      return { row: updated, size: await this.log.size(orgId) };
    });
    this.delivery.forget(orgId);
    if (row.enabled) await this.delivery.enqueue(orgId, id);
    return sinkView(row, size);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const orgId = principal.orgId;
    await this.tx.run(async () => {
      const sink = await this.repo.find(orgId, id);
      if (!sink || !(await this.repo.delete(orgId, id))) throw notFound();
      await this.trail.record({
        orgId,
        action: 'audit_sink.deleted',
        target: { kind: 'audit_sink', id, name: sink.name },
        details: { kind: sink.kind, url: sink.url },
      });
    });
    this.delivery.forget(orgId);
  }

  /**
   * Sends a test delivery (no events; the cursor stays) and says whether the sink acknowledged it. The test is an
   * audit event, its outcome `failed` when the sink refused.
   */
  async test(principal: Principal, id: string): Promise<AuditSinkTestResult> {
    const orgId = principal.orgId;
    const sink = await this.repo.find(orgId, id);
    if (!sink) throw notFound();
    let error: string | null = null;
    try {
      if (sink.kind === 'otlp_logs') await sendOtlpLogsTest(sink.url, orgId);
      else if (sink.secretEnc) await sendWebhookTest(sink.url, this.box.decrypt(sink.secretEnc));
      else error = 'the webhook has no secret';
    } catch (err) {
      if (!(err instanceof SinkRefused)) throw err;
      error = err.message;
    }
    await this.trail.record({
      orgId,
      action: 'audit_sink.tested',
      target: { kind: 'audit_sink', id, name: sink.name },
      outcome: error === null ? 'success' : 'failed',
      details: error === null ? {} : { error },
    });
    return { ok: error === null, error };
  }
}

function notFound(): AppError {
  return new AppError('audit.sink_not_found', 'no such audit sink');
}
