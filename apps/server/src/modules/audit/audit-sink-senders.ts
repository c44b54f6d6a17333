import { createHmac } from 'node:crypto';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { toOcsf } from '@yoke/audit';
import {
  AUDIT_SCHEMA,
  type AuditEvent,
  type AuditSinkFormat,
  SINK_DELIVERY_HEADER,
  SINK_SIGNATURE_HEADER,
  SINK_TIMESTAMP_HEADER,
} from '@yoke/protocol';

/** How long a sink has to acknowledge one batch. */
export const SINK_TIMEOUT_MS = 10_000;

/** A batch the sink did not acknowledge; the message is what the sink's view shows as its last error. */
export class SinkRefused extends Error {}

export type SinkBatch = { orgId: string; events: AuditEvent[]; format: AuditSinkFormat };

/** The events as the sink's format has them: as stored, or OCSF records. */
export function formatted(batch: SinkBatch): unknown[] {
  return batch.format === 'ocsf' ? batch.events.map((e) => toOcsf(e)) : batch.events;
}

/** `v1=` hex HMAC-SHA256 of `${timestamp}.${body}` under the sink's secret (docs/audit.md shows how to check it). */
export function signature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** POSTs the batch as `{ "events": [...] }`, signed; resolves on a 2xx only. */
export function sendWebhook(url: string, secret: string, batch: SinkBatch): Promise<void> {
  const first = batch.events[0].seq;
  const last = batch.events[batch.events.length - 1].seq;
  return postSigned(url, secret, JSON.stringify({ events: formatted(batch) }), `${first}-${last}`);
}

/** A test delivery: `{ "events": [], "test": true }`, signed like any other, delivery `0-0`. */
export function sendWebhookTest(url: string, secret: string): Promise<void> {
  return postSigned(url, secret, JSON.stringify({ events: [], test: true }), '0-0');
}

/**
 * POSTs `body`, signed; resolves on a 2xx only. Redirects are not followed (a 3xx is a failure), so events never go
 * anywhere but the URL the admin set.
 */
async function postSigned(url: string, secret: string, body: string, delivery: string): Promise<void> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'yoke-audit-sink',
        [SINK_TIMESTAMP_HEADER]: timestamp,
        [SINK_SIGNATURE_HEADER]: signature(secret, timestamp, body),
        [SINK_DELIVERY_HEADER]: delivery,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(SINK_TIMEOUT_MS),
    });
  } catch (err) {
    throw new SinkRefused(describe(err));
  }
  // The reply's body is not needed; reading it frees the connection.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new SinkRefused(`HTTP ${res.status} from the sink`);
}

/*
 * The OTLP exporter and the OpenTelemetry SDK parts it pulls in (~180 modules) load on the first OTLP delivery: a
 * server without an OTLP audit sink never needs them, and every start paid for loading them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const otlp = {
  exporter: () =>
    require('@opentelemetry/exporter-logs-otlp-http') as typeof import('@opentelemetry/exporter-logs-otlp-http'),
  resources: () => require('@opentelemetry/resources') as typeof import('@opentelemetry/resources'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The OTLP export result that acknowledges a batch (ExportResultCode.SUCCESS in @opentelemetry/core). */
const EXPORT_SUCCESS = 0;

/**
 * Exports one OTLP log record per event to the sink's OTLP/HTTP logs endpoint (JSON encoding), in one request;
 * resolves when the exporter reports success.
 */
export function sendOtlpLogs(url: string, batch: SinkBatch): Promise<void> {
  const resource = otlp.resources().resourceFromAttributes({ 'service.name': 'yoke', 'yoke.org_id': batch.orgId });
  const bodies = formatted(batch);
  const observed = hrTime(Date.now());
  const records: ReadableLogRecord[] = batch.events.map((e, i) => {
    const severity = e.outcome === 'success' ? SeverityNumber.INFO : SeverityNumber.WARN;
    return {
      hrTime: hrTime(Date.parse(e.at)),
      hrTimeObserved: observed,
      severityNumber: severity,
      severityText: severity === SeverityNumber.INFO ? 'INFO' : 'WARN',
      body: JSON.stringify(bodies[i]),
      eventName: e.action,
      resource,
      instrumentationScope: SCOPE,
      attributes: {
        'yoke.audit.seq': e.seq,
        'yoke.audit.id': e.id,
        'yoke.org_id': e.orgId,
        'event.name': e.action,
      },
      droppedAttributesCount: 0,
    };
  });
  return exportLogs(url, records);
}

/** A test delivery: one record named `yoke.audit.test`, body `{"test":true}`. */
export function sendOtlpLogsTest(url: string, orgId: string): Promise<void> {
  const now = hrTime(Date.now());
  return exportLogs(url, [
    {
      hrTime: now,
      hrTimeObserved: now,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: JSON.stringify({ test: true }),
      eventName: 'yoke.audit.test',
      resource: otlp.resources().resourceFromAttributes({ 'service.name': 'yoke', 'yoke.org_id': orgId }),
      instrumentationScope: SCOPE,
      attributes: { 'yoke.org_id': orgId, 'event.name': 'yoke.audit.test' },
      droppedAttributesCount: 0,
    },
  ]);
}

const SCOPE = { name: 'yoke.audit', version: AUDIT_SCHEMA };

async function exportLogs(url: string, records: ReadableLogRecord[]): Promise<void> {
  const exporter = new (otlp.exporter().OTLPLogExporter)({ url, timeoutMillis: SINK_TIMEOUT_MS, concurrencyLimit: 1 });
  try {
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(records, resolve));
    if (result.code !== EXPORT_SUCCESS) throw new SinkRefused(result.error?.message ?? 'the OTLP export failed');
  } finally {
    await exporter.shutdown().catch(() => undefined);
  }
}

function hrTime(ms: number): [number, number] {
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${SINK_TIMEOUT_MS / 1000} s`;
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code
    ? `${err.message}: ${cause.code}`
    : cause?.message
      ? `${err.message}: ${cause.message}`
      : err.message;
}
