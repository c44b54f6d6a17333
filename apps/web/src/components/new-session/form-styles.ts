/** The New session dialog's recurring Tailwind classes, shared by the dialog and its agent picker. */

/** A field: its label (a <span>) above a full-width control. */
export const FIELD =
  'my-1.5 flex min-w-0 flex-col gap-1 [&>span]:text-[0.85rem] [&>span]:font-semibold [&>span]:text-muted [&_input]:w-full [&_select]:w-full [&_textarea]:w-full';

/** The YAML and first-prompt text areas: on the page colour, so they stand out from the panel. */
export const TEXT_AREA = 'w-full resize-y rounded-sm border border-border bg-page p-2';

/** An error as the server or the check gave it, line breaks kept. */
export const ERROR_TEXT = 'whitespace-pre-wrap text-danger wrap-anywhere';

export const HINT = 'text-[0.85rem] text-muted not-italic';
