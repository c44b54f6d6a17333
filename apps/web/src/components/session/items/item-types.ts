import type { Item } from '@yoke/protocol';

/** The persisted item of one `type`. */
export type ItemOf<T extends Item['type']> = Extract<Item, { type: T }>;
