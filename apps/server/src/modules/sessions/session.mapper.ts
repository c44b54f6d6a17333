import { AgentSpec, type InboxEntry, InboxInput, type Item, type QueuedPrompt, type Session } from '@yoke/protocol';
import type { InboxRow } from './inbox.repository';
import type { ItemRow, SessionRow } from './sessions.repository';

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

/** A stored message not yet handed to the runner, as its session's viewers see it (`erased` by retention or not). */
export function toQueuedPrompt(row: InboxRow): QueuedPrompt {
  const input = InboxInput.parse(row.input);
  if (input.kind !== 'message') throw new Error(`inbox entry ${row.id} is a ${input.kind}, not a message`);
  return {
    id: row.id,
    sessionId: row.sessionId,
    text: input.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n\n'),
    content: input.content,
    actor: input.actor,
    createdAt: row.createdAt.toISOString(),
    erased: row.erasedAt !== null,
  };
}
