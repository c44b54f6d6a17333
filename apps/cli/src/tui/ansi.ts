/**
 * The few ANSI styles the terminal UI writes into strings it hands to Ink (markdown, diffs, tool lines), and the
 * width arithmetic that has to ignore them. Ink itself styles with <Text color>; these are for pre-rendered text.
 */
const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export const bold = wrap(1, 22);
export const dim = wrap(2, 22);
export const italic = wrap(3, 23);
export const red = wrap(31, 39);
export const green = wrap(32, 39);
export const yellow = wrap(33, 39);
export const blue = wrap(34, 39);
export const magenta = wrap(35, 39);
export const cyan = wrap(36, 39);
export const gray = wrap(90, 39);

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** Columns a string takes: code points, ANSI escapes excluded (the UI writes no wide characters of its own). */
export function visibleWidth(s: string): number {
  return Array.from(stripAnsi(s)).length;
}

/** Cuts plain text to `width` columns, ending with an ellipsis when it had to cut. */
export function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, Math.max(0, width)).join('');
  return `${chars.slice(0, width - 1).join('')}…`;
}
