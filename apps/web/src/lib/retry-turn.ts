import type { ContentPart, InputAccepted } from '@yoke/protocol';
import { request } from '@/lib/api';
import { parseInputAccepted } from '@/lib/wire';

/**
 * Sends a failed turn's prompt again, as a new message with the same content (files included). Pass the same
 * `idempotencyKey` when a send that failed is tried again, so the server applies it once.
 */
export async function resendPrompt(
  sessionId: string,
  content: ContentPart[],
  idempotencyKey: string,
): Promise<InputAccepted | null> {
  const body = { content, idempotencyKey };
  return parseInputAccepted(
    await request(`/sessions/${encodeURIComponent(sessionId)}/messages`, { method: 'POST', body }),
  );
}
