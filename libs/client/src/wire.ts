import {
  DeltaEvent,
  ErrorBody,
  InputAccepted,
  ItemsPage,
  JoinAck,
  parseItem,
  PartialItem,
  Session,
  SessionPage,
  type Item,
} from '@yoke/protocol';

/**
 * Everything that crosses the wire into a client (the web, the CLI, the terminal UI) is parsed here, with the
 * protocol's own schemas (HOUSE-STYLE rule 12), before a client acts on it.
 */
export class WireError extends Error {
  constructor(what: string, detail: string) {
    super(`The server sent ${what} that does not match the protocol: ${detail}`);
    this.name = 'WireError';
  }
}

type Schema<T> = {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
};

/** Parses `input` with a protocol schema, or throws a WireError naming `what` arrived wrong. */
export function parseWire<T>(schema: Schema<T>, what: string, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new WireError(what, r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isAckOk(reply: unknown): boolean {
  return isRecord(reply) && reply.ok === true;
}

export function parseSession(input: unknown): Session | null {
  const r = Session.safeParse(input);
  return r.success ? r.data : null;
}

export function parseSessionPage(input: unknown): SessionPage {
  const r = SessionPage.safeParse(input);
  if (!r.success) throw new WireError('a session list', r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

/**
 * An item, or a visible error notice in its place when it is malformed but still has a usable `seq`: dropping
 * it would leave a gap that stalls the sequencer forever. Null when not even the seq can be read, or when the
 * item belongs to another session.
 */
export function parseItemOrPlaceholder(input: unknown, sessionId: string): Item | null {
  const r = parseItem(input);
  if (r.ok) return r.value.sessionId === sessionId ? r.value : null;
  if (!isRecord(input) || typeof input.seq !== 'number' || !Number.isInteger(input.seq) || input.seq < 1) return null;
  if (input.sessionId !== sessionId) return null;
  return {
    seq: input.seq,
    sessionId,
    createdAt: typeof input.createdAt === 'string' ? input.createdAt : new Date().toISOString(),
    type: 'notice',
    level: 'error',
    text: `Unreadable ${typeof input.type === 'string' ? input.type : 'item'} (seq ${input.seq}): ${r.message}`,
  };
}

export function parseItems(input: unknown, sessionId: string): Item[] {
  if (!Array.isArray(input)) throw new WireError('items', 'expected an array');
  return input.map((i) => parseItemOrPlaceholder(i, sessionId)).filter((i): i is Item => i !== null);
}

/** An items page, parsed with the protocol's `ItemsPage`, or item by item (placeholders) when some are unreadable. */
export function parseItemsPage(input: unknown, sessionId: string): ItemsPage {
  const strict = ItemsPage.safeParse(input);
  if (strict.success) return { ...strict.data, items: strict.data.items.filter((i) => i.sessionId === sessionId) };
  if (!isRecord(input) || typeof input.hasMore !== 'boolean' || typeof input.lastSeq !== 'number') {
    throw new WireError('an items page', 'expected {items, lastSeq, hasMore}');
  }
  return { items: parseItems(input.items, sessionId), lastSeq: input.lastSeq, hasMore: input.hasMore };
}

export function parseDeltaEvent(input: unknown): DeltaEvent | null {
  const r = DeltaEvent.safeParse(input);
  return r.success ? r.data : null;
}

export function parsePartials(input: unknown): PartialItem[] {
  if (!Array.isArray(input)) return [];
  return input.flatMap((p) => {
    const r = PartialItem.safeParse(p);
    return r.success ? [r.data] : [];
  });
}

export function parseErrorBody(input: unknown): ErrorBody | null {
  const body = isRecord(input) && isRecord(input.error) ? input.error : input;
  const r = ErrorBody.safeParse(body);
  return r.success ? r.data : null;
}

export function parseInputAccepted(input: unknown): InputAccepted | null {
  const r = InputAccepted.safeParse(input);
  return r.success ? r.data : null;
}

export type JoinResult =
  | { ok: true; session: Session; items: Item[]; partials: PartialItem[]; hasMore: boolean }
  | { ok: false; error: ErrorBody };

/**
 * A join reply: parsed with the protocol's `JoinAck`; when only some of its items are unreadable, those become
 * visible error notices in their place (the rest is still checked field by field), so the sequence has no gap.
 */
export function parseJoinAck(input: unknown, sessionId: string): JoinResult {
  const strict = JoinAck.safeParse(input);
  if (strict.success) {
    const reply = strict.data;
    if (!reply.ok) return { ok: false, error: reply.error };
    return { ...reply, ok: true, items: reply.items.filter((i) => i.sessionId === sessionId) };
  }
  if (!isRecord(input)) throw new WireError('a join reply', 'expected an object');
  if (input.ok === false) {
    return {
      ok: false,
      error: parseErrorBody(input.error) ?? { code: 'internal', message: 'The server refused to join the session.' },
    };
  }
  const session = Session.safeParse(input.session);
  if (!session.success) throw new WireError('a session', session.error.issues[0]?.message ?? 'invalid');
  return {
    ok: true,
    session: session.data,
    items: parseItems(input.items, sessionId),
    partials: parsePartials(input.partials),
    hasMore: input.hasMore === true,
  };
}

/** A message for any error a client call can throw. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
