import { z } from 'zod';

/** Bumped on any breaking change to events or messages. Runners and clients send theirs at the handshake. */
export const PROTOCOL_VERSION = 1;

/** Largest single runner event (one item or one batch), in bytes of JSON. Larger payloads are refused. */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** Largest number of items in one runner batch. */
export const MAX_BATCH_ITEMS = 500;
/** Largest text of one item field (agent text, command output, file content...). */
export const MAX_TEXT_CHARS = 256 * 1024;

export const Uuid = z.uuid();
/** The largest seq (and item position): seqs are stored in Postgres `integer` columns. */
export const MAX_SEQ = 2_147_483_647;
export const Seq = z.number().int().positive().max(MAX_SEQ);
export const IsoDate = z.iso.datetime({ offset: true });

export const BoundedText = z.string().max(MAX_TEXT_CHARS);

/** W3C trace context (`traceparent`, version 00): carried across the runner link so one turn is one trace. */
export const TraceParent = z.string().regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'a W3C traceparent');

/** The human (or local user) on whose behalf something happened. */
export const Actor = z.strictObject({
  id: z.string().min(1).max(200),
  name: z.string().max(200),
  /** A share-link guest (its id is then the guest's grant, not a user); a signed-in person when absent. */
  kind: z.enum(['user', 'guest']).optional(),
});
export type Actor = z.infer<typeof Actor>;
