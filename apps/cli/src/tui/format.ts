import { truncate } from './ansi';

/** How a tool call is shown while it runs and once it ended. */
export type ToolStatus = 'running' | 'ok' | 'failed' | 'denied' | 'cancelled';

export const TOOL_ICONS: Record<ToolStatus, string> = {
  running: '◌',
  ok: '✓',
  failed: '✗',
  denied: '⊘',
  cancelled: '■',
};

/** `420ms`, `1.2s`, `1m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** `950`, `1.2k`, `3.4M`. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatCost(usd: number): string {
  return `$${usd.toFixed(usd >= 10 ? 2 : 4)}`;
}

/** The one-line gist of a tool call's input: the command of a shell call, the path of a file call, else its JSON. */
export function toolSummary(input: unknown): string {
  if (typeof input === 'string') return oneLine(input);
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const rec = input as Record<string, unknown>;
    for (const key of ['command', 'cmd', 'path', 'file_path', 'filePath', 'pattern', 'url', 'query', 'prompt']) {
      const v = rec[key];
      if (typeof v === 'string') return oneLine(key === 'command' || key === 'cmd' ? `$ ${v}` : v);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return oneLine(`$ ${v.join(' ')}`);
    }
  }
  return oneLine(JSON.stringify(input) ?? '');
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ⏎ ').trim();
}

export interface ToolLineInput {
  tool: string;
  summary: string;
  status: ToolStatus;
  /** Milliseconds the call took (or has been running). */
  elapsedMs: number | null;
  exitCode?: number | null;
}

/**
 * One line per tool call: icon, tool, what it does, then status and duration, the whole cut to `width` columns with
 * the summary shortened first (the status and duration always show).
 */
export function toolLine(t: ToolLineInput, width: number): string {
  const tail = [
    t.status === 'ok' ? '' : t.status,
    t.exitCode !== undefined && t.exitCode !== null && t.exitCode !== 0 ? `exit ${t.exitCode}` : '',
    t.elapsedMs === null ? '' : formatDuration(t.elapsedMs),
  ]
    .filter(Boolean)
    .join(' · ');
  const head = `${TOOL_ICONS[t.status]} ${t.tool}`;
  const room = width - head.length - 1 - (tail ? tail.length + 2 : 0);
  const summary = room >= 4 ? ` ${truncate(t.summary, room)}` : '';
  const left = truncate(`${head}${summary}`, tail ? Math.max(1, width - tail.length - 2) : width);
  return tail ? `${left}  ${tail}` : left;
}

/** The last `max` lines of a command's output (each cut to `width`), and how many lines were left out. */
export function outputPreview(output: string, max: number, width: number): { lines: string[]; hidden: number } {
  const all = output.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  if (all.length === 1 && all[0] === '') return { lines: [], hidden: 0 };
  const shown = all.slice(-max);
  return { lines: shown.map((l) => truncate(l.replace(/\t/g, '  '), width)), hidden: all.length - shown.length };
}

/** Wraps plain text to `width` columns (hard breaks at the width; no word splitting rules needed for output). */
export function hardWrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) out.push(...wrapLine(line, width));
  return out;
}

/**
 * The last `max` lines of `hardWrap(text, width)`, wrapping only the end of the text: a long answer streaming in is
 * drawn many times a second, and only its tail is on screen.
 */
export function hardWrapTail(text: string, width: number, max: number): string[] {
  const out: string[] = [];
  let end = text.length;
  while (out.length < max && end >= 0) {
    const start = text.lastIndexOf('\n', end - 1);
    out.unshift(...wrapLineTail(text.slice(start + 1, end), width, max - out.length));
    if (start < 0) break;
    end = start;
  }
  return out.slice(-max);
}

/**
 * The last `max` lines of `wrapLine(line, width)`, without splitting the rest of the line into characters: an answer
 * with no line breaks (one long paragraph) is a single line of many thousands of characters while it streams.
 */
function wrapLineTail(line: string, width: number, max: number): string[] {
  if (line.length <= width * max) return wrapLine(line, width).slice(-max);
  // Wrapped lines start every `width` code points from the start of the line; find where the kept ones start.
  let points = 0;
  for (let i = 0; i < line.length; i += isHighSurrogate(line, i) ? 2 : 1) points++;
  const skip = Math.max(0, Math.ceil(points / width) - max) * width;
  let at = 0;
  for (let n = 0; n < skip; n++) at += isHighSurrogate(line, at) ? 2 : 1;
  return wrapLine(line.slice(at), width);
}

/** Whether a surrogate pair (one code point, two UTF-16 units) starts at `i`. */
function isHighSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
}

function wrapLine(line: string, width: number): string[] {
  const chars = Array.from(line);
  if (chars.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += width) out.push(chars.slice(i, i + width).join(''));
  return out;
}
