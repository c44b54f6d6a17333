import { z } from 'zod';
import { Actor, IsoDate, Uuid } from './common';
import { ContentPart } from './items';

/**
 * A prompt the server holds for a session's runner but has not handed over yet (its runner is offline or revoked).
 * `text` is the prompt's text parts joined; content erased by retention stays erased (`erased`, the marker as text).
 */
export const QueuedPrompt = z.strictObject({
  id: Uuid,
  sessionId: Uuid,
  text: z.string(),
  content: z.array(ContentPart),
  actor: Actor,
  createdAt: IsoDate,
  erased: z.boolean(),
});
export type QueuedPrompt = z.infer<typeof QueuedPrompt>;

/** `GET /sessions/:id/queued`: the session's undelivered prompts, oldest first. */
export const QueuedPromptList = z.strictObject({ items: z.array(QueuedPrompt) });
export type QueuedPromptList = z.infer<typeof QueuedPromptList>;

/**
 * `session.queue_changed`, to everyone watching the session: a prompt was queued (its runner could not take it),
 * withdrawn by someone who may drive, or delivered (the runner has it; its `user_message` item follows).
 */
export const QueueChangedEvent = z.discriminatedUnion('change', [
  z.strictObject({ change: z.literal('queued'), sessionId: Uuid, prompt: QueuedPrompt }),
  z.strictObject({ change: z.literal('withdrawn'), sessionId: Uuid, id: Uuid, actor: Actor }),
  z.strictObject({ change: z.literal('delivered'), sessionId: Uuid, id: Uuid }),
]);
export type QueueChangedEvent = z.infer<typeof QueueChangedEvent>;
