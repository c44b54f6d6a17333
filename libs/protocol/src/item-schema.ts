import { z } from 'zod';
import { type Item, parseItem } from './items';

/**
 * A stored item inside a reply (the join ack, a page of items), parsed with `parseItem`: the envelope and the body of
 * its `type` apart, each strict, so an item with a field the protocol does not name is refused.
 */
export const ItemSchema: z.ZodType<Item, unknown> = z.unknown().transform((input, ctx) => {
  const parsed = parseItem(input);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.message, input });
  return z.NEVER;
});
