import { MAX_TEXT_CHARS } from '@yoke/protocol';

const CONTEXT = 3;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * A unified diff with one hunk spanning the changed region (common leading and trailing lines are trimmed, three
 * lines of context kept). Cheap and linear; good enough to show a change, not a minimal diff. `before` null = new file.
 */
export function unifiedDiff(path: string, before: string | null, after: string): string {
  const a = splitLines(before ?? '');
  const b = splitLines(after);
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const start = Math.max(0, prefix - CONTEXT);
  const endA = Math.min(a.length, a.length - suffix + CONTEXT);
  const endB = Math.min(b.length, b.length - suffix + CONTEXT);
  const lead = a.slice(start, prefix).map((l) => ` ${l}`);
  const removed = a.slice(prefix, a.length - suffix).map((l) => `-${l}`);
  const added = b.slice(prefix, b.length - suffix).map((l) => `+${l}`);
  const trail = a.slice(a.length - suffix, endA).map((l) => ` ${l}`);
  const oldLen = endA - start;
  const newLen = endB - start;
  const range = (from: number, len: number): string => `${len === 0 ? from : from + 1},${len}`;
  const text = [
    `--- ${before === null ? '/dev/null' : `a/${path}`}`,
    `+++ b/${path}`,
    `@@ -${range(start, oldLen)} +${range(start, newLen)} @@`,
    ...lead,
    ...removed,
    ...added,
    ...trail,
  ].join('\n');
  return clip(`${text}\n`, MAX_TEXT_CHARS);
}

/** Cuts `text` to at most `max` characters, saying how much was dropped. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n[... truncated ${text.length - max} characters ...]\n`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}
