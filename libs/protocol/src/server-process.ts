import { z } from 'zod';

/**
 * What the server sends its parent (`yoke start`) on the IPC channel once it listens. The parent learns the URL from
 * this, never from a log line.
 */
export const ServerReadyMessage = z.strictObject({
  type: z.literal('ready'),
  /** The URL the server really listens on (its port may have been 0). */
  url: z.url().max(2048),
});
export type ServerReadyMessage = z.infer<typeof ServerReadyMessage>;
