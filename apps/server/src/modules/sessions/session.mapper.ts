import { AgentSpec, type InboxEntry, InboxInput, type Item, type QueuedPrompt, type Session } from '@yoke/protocol';
import type { InboxRow } from './inbox.repository';
import type { ItemRow, SessionRow } from './sessions.repository';

/** Parsed agent specs by session id, at most AGENT_CACHE (oldest first out). */
const agents = new Map<string, AgentSpec>();
const AGENT_CACHE = 2_000;

/**
 * A session's agent spec as clients get it (parsed, defaults filled). It is written once, when the session is created,
 * and never changes: parsed once per session here, not on every read of every listed session. Frozen, as it is shared.
 */
function agentOf(row: { id: string; agent: unknown }): AgentSpec {
  const known = agents.get(row.id);
  if (known) return known;
  const spec = deepFreeze(AgentSpec.parse(row.agent));
  if (agents.size >= AGENT_CACHE) agents.delete(agents.keys().next().value as string);
  agents.set(row.id, spec);
  return spec;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function toSessionView(
  row: SessionRow,
  isOnline: (r: { online: boolean; lastSeenAt: Date | null }) => boolean,
): Session {
  return {
    id: row.id,
    orgId: row.orgId,
    ownerId: row.ownerId,
    title: row.title,
    agent: agentOf(row),
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
