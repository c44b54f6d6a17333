/** The audit page's recurring Tailwind classes, shared by its panels (integrity, streaming, governance, events). */

/** A section of the page, spaced from its neighbours. */
export const SECTION = 'my-4';

/** A section drawn as a card on the surface colour (integrity, streaming, governance). */
export const CARD_SECTION = 'my-4 rounded-lg border border-border bg-surface px-3.5 py-3';

/** A section's title row: the title, then a note or its actions, wrapping on a narrow screen. */
export const SECTION_HEAD = 'mb-2 flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1.5';

/** A section's title (an <h2>); the focus ring stands clear of it when the page moves focus there. */
export const SECTION_TITLE = 'm-0 text-[17px] focus-visible:outline-offset-4';

/** A <details> whose summary is a small muted line. */
export const DISCLOSURE = 'mt-1.5 [&>summary]:cursor-pointer [&>summary]:text-sm [&>summary]:text-muted';

/** A label's caption (a <span> first in a `.field`), small and muted above its control. */
export const FIELD_CAPTION = 'mb-0.5 block text-sm text-muted';

/** A list with no bullets. */
export const PLAIN_LIST = 'm-0 list-none p-0';

/** One event (or governance step) in a list: a bordered block that may shrink on a narrow screen. */
export const EVENT_BOX = 'min-w-0 rounded-sm border border-border px-3 py-2';

/** An event's head: the outcome, the action, the actor, the Details toggle. */
export const EVENT_HEAD =
  'grid grid-cols-[auto_minmax(0,max-content)_minmax(0,1fr)_auto] items-center gap-x-2.5 gap-y-1 max-[600px]:grid-cols-[auto_minmax(0,1fr)_auto]';

/** The small Details toggle at the end of an event's head. */
export const TOGGLE = 'ml-auto min-h-[30px] px-2.5 py-0.5 text-sm';

/** The muted line under an event's head: sequence number, time, target. */
export const ROW_META = 'mt-0.5 flex min-w-0 flex-wrap items-center gap-x-2.5 gap-y-1 text-sm text-muted';

/** A sequence number, in figures that line up. */
export const SEQ = 'font-mono tabular-nums';

/** Key and value pairs, one per line, keys muted (add `[&_dt]:font-mono` where the keys are names from code). */
export const KEY_VALUES =
  'm-0 grid gap-0.5 [&_dd]:m-0 [&_dd]:whitespace-pre-wrap [&_dd]:wrap-anywhere [&_dt]:text-muted [&>div]:flex [&>div]:flex-wrap [&>div]:gap-x-2';

/** A long value (a key, a URL, a secret) that breaks anywhere rather than widening the page. */
export const LONG_VALUE = 'block text-sm wrap-anywhere break-all';

/** How an event ended, as the colours of its badge. */
export const OUTCOME_COLOURS = {
  success: 'bg-ok-bg text-ok',
  denied: 'bg-warn-bg text-warn',
  failed: 'bg-danger-bg text-danger',
} as const;
