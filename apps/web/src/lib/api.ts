import {
  API_PREFIX,
  CSRF_COOKIE,
  CSRF_HEADER,
  type ErrorCode,
  type InputAccepted,
  type ItemsPage,
  QueuedPromptList,
  Session,
  type SessionPage,
  type SessionStatus,
} from '@yoke/protocol';
import { newIdempotencyKey } from '@/lib/ids';
import { readToken } from '@/lib/token';
import { parseErrorBody, parseInputAccepted, parseItemsPage, parseSessionPage, parseWire } from '@/lib/wire';

/** A failed REST call: the protocol error code when the server sent one, `network` when it never answered. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function request(
  path: string,
  init: { method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; body?: unknown; signal?: AbortSignal } = {},
) {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = readToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  // Signed in through the browser (session cookie): writes carry the session's CSRF token from its cookie.
  const csrf = init.method && init.method !== 'GET' ? readCookie(CSRF_COOKIE) : null;
  if (csrf) headers[CSRF_HEADER] = csrf;
  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
      cache: 'no-store',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('network', 'The server could not be reached.', 0);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = parseErrorBody(body);
    throw new ApiError(error?.code ?? 'internal', error?.message ?? `Request failed (HTTP ${res.status}).`, res.status);
  }
  return body;
}

function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  const m = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return m ? decodeURIComponent(m[1]) : null;
}

export type SessionQuery = {
  status?: SessionStatus;
  includeArchived?: boolean;
  /** The server's search: title, agent, harness, model or id containing this text. */
  q?: string;
  cursor?: string;
  limit?: number;
};

export async function listSessions(q: SessionQuery, signal?: AbortSignal): Promise<SessionPage> {
  const params = new URLSearchParams();
  if (q.status) params.set('status', q.status);
  if (q.includeArchived) params.set('includeArchived', 'true');
  if (q.q) params.set('q', q.q);
  if (q.cursor) params.set('cursor', q.cursor);
  params.set('limit', String(q.limit ?? 50));
  return parseSessionPage(await request(`/sessions?${params.toString()}`, { signal }));
}

export async function fetchItems(sessionId: string, afterSeq: number, signal?: AbortSignal): Promise<ItemsPage> {
  const path = `/sessions/${encodeURIComponent(sessionId)}/items?afterSeq=${afterSeq}`;
  return parseItemsPage(await request(path, { signal }), sessionId);
}

/**
 * `delivered: false` means the input is queued in the server's inbox until the runner is back. Pass the same
 * `idempotencyKey` when retrying the same message so the server applies it once.
 */
export async function sendMessage(
  sessionId: string,
  text: string,
  idempotencyKey: string = newIdempotencyKey(),
): Promise<InputAccepted | null> {
  const body = { text, idempotencyKey };
  return parseInputAccepted(
    await request(`/sessions/${encodeURIComponent(sessionId)}/messages`, { method: 'POST', body }),
  );
}

export async function cancelSession(sessionId: string): Promise<InputAccepted | null> {
  return parseInputAccepted(
    await request(`/sessions/${encodeURIComponent(sessionId)}/cancel`, { method: 'POST', body: {} }),
  );
}

/**
 * Archives a session (its owner, while it rests) or restores it to idle. Fails with `session.busy` while a turn runs or
 * a prompt waits for the runner.
 */
export async function setArchived(sessionId: string, archived: boolean): Promise<Session> {
  const path = `/sessions/${encodeURIComponent(sessionId)}/${archived ? 'archive' : 'restore'}`;
  return parseWire(Session, 'the session', await request(path, { method: 'POST' }));
}

/** The session's prompts stored for its runner but not handed over yet, oldest first. */
export async function listQueuedPrompts(sessionId: string, signal?: AbortSignal): Promise<QueuedPromptList> {
  const path = `/sessions/${encodeURIComponent(sessionId)}/queued`;
  return parseWire(QueuedPromptList, 'the queued prompts', await request(path, { signal }));
}

/**
 * Withdraws a queued prompt before its runner has it. Fails with `input.already_delivered` when the runner took it
 * first, `input.not_found` when someone else withdrew it.
 */
export async function withdrawQueuedPrompt(sessionId: string, inboxId: string): Promise<void> {
  const path = `/sessions/${encodeURIComponent(sessionId)}/queued/${encodeURIComponent(inboxId)}`;
  await request(path, { method: 'DELETE' });
}

export { describeError } from '@yoke/client';
