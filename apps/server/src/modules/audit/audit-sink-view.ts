import type { AuditSinkFormat, AuditSinkHealth, AuditSinkKind, AuditSinkView } from '@yoke/protocol';
import type { AuditSinkRow } from './audit-sinks.repository';

/** The sink as its org sees it; `size` is the org's log size now. */
export function sinkView(row: AuditSinkRow, size: number): AuditSinkView {
  const cursor = Number(row.cursor);
  const lag = Math.max(0, size - cursor);
  const health: AuditSinkHealth = !row.enabled
    ? 'paused'
    : row.failingSince
      ? 'failing'
      : lag === 0
        ? 'idle'
        : 'healthy';
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as AuditSinkKind,
    url: row.url,
    format: row.format as AuditSinkFormat,
    enabled: row.enabled,
    cursor,
    lag,
    health,
    lastDeliveredAt: row.lastDeliveredAt?.toISOString() ?? null,
    lastError: row.lastError,
    failingSince: row.failingSince?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
