import { AgentSpec, type InboxEntry, InboxInput, type Item, type Session } from '@yoke/protocol';
import type { InboxRow, ItemRow, SessionRow } from './sessions.repository';

export function toSessionView(
  row: SessionRow,
  isOnline: (r: { online: boolean; lastSeenAt: Date | null }) => boolean,
): Session {
  return {
    id: row.id,
    orgId: row.orgId,
    ownerId: row.ownerId,
    title: row.title,
    agent: AgentSpec.parse(row.agent),
    harness: row.harness,
    model: row.model,
    runnerId: row.runnerId,
    runnerOnline: row.runner ? isOnline(row.runner) : false,
    runnerName: row.runner?.name ?? null,
    runnerRevoked: !!row.runner?.revokedAt,
    status: row.status,
    statusReason: row.statusReason,
    parentId: row.parentId,
    forkedFrom: row.forkedFromId ? { sessionId: row.forkedFromId, seq: row.forkedFromSeq ?? 0 } : null,
    lastSeq: row.lastSeq,
    costUsd: Number(row.costUsd),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toItem(row: ItemRow): Item {
  const body = row.body as Record<string, unknown>;
  return {
    ...(body as object),
    seq: row.seq,
    sessionId: row.sessionId,
    ...(row.turnId ? { turnId: row.turnId } : {}),
    ...(row.actor ? { actor: row.actor } : {}),
    createdAt: row.createdAt.toISOString(),
  } as Item;
}

export function toInboxEntry(row: InboxRow): InboxEntry {
  return {
    id: row.id,
    sessionId: row.sessionId,
    input: InboxInput.parse(row.input),
    createdAt: row.createdAt.toISOString(),
  };
}
