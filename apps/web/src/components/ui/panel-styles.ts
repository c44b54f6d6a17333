/**
 * The admin tabs' recurring Tailwind classes (Budgets, Retention, Policies): cards on the page's surface, their
 * headings, bordered lists and the small coloured texts, so each tab reads the same in light and dark.
 */

/** A tab's column of cards. */
export const PANEL = 'grid gap-3';

/** A card: a bordered block on the surface colour that may shrink on a narrow screen. */
export const CARD = 'min-w-0 rounded-lg border border-border bg-surface p-3';

/** A card's title (an <h2>). */
export const CARD_TITLE = 'mt-0 mb-1.5 text-[1.05rem]';

/** A heading inside a card (an <h3>). */
export const CARD_SUBTITLE = 'mt-3 mb-1.5 text-[0.95rem]';

/** A card's title row: the title on one side, its actions on the other, wrapping on a narrow screen. */
export const CARD_HEAD = 'flex flex-wrap items-center justify-between gap-1.5';

/** A list of bordered rows, one under the other. */
export const BOXED_LIST = 'm-0 grid list-none gap-1.5 p-0';

/** One row of a `BOXED_LIST`. */
export const BOXED_ITEM = 'min-w-0 rounded-sm border border-border p-1.5 wrap-anywhere';

/** A bulleted list inside a card, indented as little as reads well. */
export const TIGHT_LIST = 'm-0 pl-[1.2em]';

/** A form in a card: its fields one under the other, no wider than reads well. */
export const CARD_FORM = 'grid max-w-[36rem] gap-1.5';

/** What a field's value is wrong about, under it. */
export const FIELD_ERROR = 'block text-danger';

/** A table that scrolls sideways on its own rather than widening the page. */
export const SIDE_SCROLL = 'overflow-x-auto';

/** A data table (members, runners, dry-run counts): full width, one rule under each row. */
export const TABLE =
  'w-full border-collapse [&_td]:border-b [&_td]:border-border [&_td]:p-1.5 [&_td]:text-left [&_th]:border-b [&_th]:border-border [&_th]:p-1.5 [&_th]:text-left';
