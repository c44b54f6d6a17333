import { parsePatch } from 'diff';
import { bold, cyan, dim, green, red } from './ansi';
import { truncate } from './ansi';

export interface RenderedDiff {
  /** `path  +3 -1` */
  header: string;
  /** Coloured lines with line numbers, at most `maxLines` of them. */
  lines: string[];
  /** Lines left out past `maxLines`. */
  hidden: number;
  added: number;
  removed: number;
}

/**
 * A `file_change` item's unified diff as coloured, numbered lines cut to `width` columns. Text that is not a
 * unified diff (a harness that reports the new content only) is shown as added lines.
 */
export function renderDiff(path: string, diffText: string, width: number, maxLines = 40): RenderedDiff {
  const rows: string[] = [];
  let added = 0;
  let removed = 0;
  const hunks = parsePatchSafely(diffText).flatMap((p) => p.hunks);
  const numberWidth = Math.max(
    3,
    ...hunks.map((h) => String(Math.max(h.oldStart + h.oldLines, h.newStart + h.newLines)).length),
  );
  const room = Math.max(8, width - numberWidth - 3);
  const row = (n: number | null, sign: string, text: string, colour: (s: string) => string) =>
    `${dim((n === null ? '' : String(n)).padStart(numberWidth))} ${colour(`${sign} ${truncate(text.replace(/\t/g, '  '), room - 2)}`)}`;
  if (hunks.length === 0) {
    const body = diffText.replace(/\n$/, '');
    body.split('\n').forEach((line, i) => {
      added++;
      rows.push(row(i + 1, '+', line, green));
    });
  }
  hunks.forEach((h, i) => {
    if (i > 0) rows.push(dim(truncate(`${' '.repeat(numberWidth)} ⋯`, width)));
    let oldLine = h.oldStart;
    let newLine = h.newStart;
    for (const line of h.lines) {
      const sign = line[0];
      const text = line.slice(1);
      if (sign === '+') {
        added++;
        rows.push(row(newLine++, '+', text, green));
      } else if (sign === '-') {
        removed++;
        rows.push(row(oldLine++, '-', text, red));
      } else if (sign === ' ') {
        rows.push(row(newLine++, ' ', text, (s) => s));
        oldLine++;
      }
    }
  });
  const counts = `${green(`+${added}`)} ${red(`-${removed}`)}`;
  return {
    header: `${bold(cyan('✎'))} ${bold(truncate(path, Math.max(8, width - 12)))}  ${counts}`,
    lines: rows.slice(0, maxLines),
    hidden: Math.max(0, rows.length - maxLines),
    added,
    removed,
  };
}

function parsePatchSafely(text: string): ReturnType<typeof parsePatch> {
  try {
    return parsePatch(text);
  } catch {
    return []; // not a unified diff: shown as added lines
  }
}
