/** How many lines a unified diff adds and removes. */
export interface DiffStats {
  added: number;
  removed: number;
}

const HUNK_HEADER = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * The lines a unified diff adds and removes, or null when the text has no hunk to count (a whole new file's content,
 * a bare rename or delete). Each hunk is read for as many lines as its header announces, so a removed line whose own
 * text starts with "--" is counted rather than taken for a file header; a hunk header without line counts is read up
 * to the next header.
 */
export function diffStats(diff: string): DiffStats | null {
  let added = 0;
  let removed = 0;
  let sawHunk = false;
  // Lines still to read in the current hunk, old and new side; Infinity when its header gave no counts.
  let oldLeft = 0;
  let newLeft = 0;
  for (const line of diff.split('\n')) {
    const open = hunkStart(line);
    if (open) {
      sawHunk = true;
      [oldLeft, newLeft] = open;
      continue;
    }
    if (oldLeft <= 0 && newLeft <= 0) continue;
    if (oldLeft === Infinity && (line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('diff '))) {
      oldLeft = newLeft = 0;
    } else if (line.startsWith('+')) {
      added++;
      newLeft--;
    } else if (line.startsWith('-')) {
      removed++;
      oldLeft--;
    } else if (line.startsWith(' ') || line === '') {
      oldLeft--;
      newLeft--;
    } else if (!line.startsWith('\\')) {
      // Anything else (a note that the diff was cut short) ends the hunk.
      oldLeft = newLeft = 0;
    }
  }
  return sawHunk ? { added, removed } : null;
}

/** The old and new line counts a hunk header announces (both Infinity for a bare "@@"), or null if not a header. */
function hunkStart(line: string): [number, number] | null {
  const m = HUNK_HEADER.exec(line);
  if (m) return [Number(m[1] ?? 1), Number(m[2] ?? 1)];
  return line.startsWith('@@') ? [Infinity, Infinity] : null;
}

/** The counts as a sentence for screen readers: "12 lines added, 3 removed". */
export function describeDiffStats({ added, removed }: DiffStats): string {
  return `${added} ${added === 1 ? 'line' : 'lines'} added, ${removed} removed`;
}
