import type { ParseEntry } from 'shell-quote';

type Token = ParseEntry;

/**
 * The tokens `shell-quote` gives for a line made of plain words, operators, single-quoted strings and double-quoted
 * strings without `$` or `\` (most command lines agents run), without its cost (it builds its tokenizer regex for
 * every line, ~15 µs for a short one). Null when the line has anything else (a `$`, a `\`, an unquoted `#`, a quote
 * that is not closed): `shell-quote` tokenizes those. The specs check it gives exactly what `shell-quote` gives.
 */
export function plainTokens(line: string): Token[] | null {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const op = operatorLength(line, i);
    if (op > 0) {
      tokens.push({ op: line.slice(i, i + op) } as Token);
      i += op;
      continue;
    }
    // A word: plain characters and quoted strings up to a space or an operator (`a'b c'"d"` is one word).
    let word = '';
    let glob = false;
    let plain = i;
    while (i < n) {
      const ch = line.charCodeAt(i);
      if (ch === 0x27 /* ' */ || ch === 0x22 /* " */) {
        const end = line.indexOf(ch === 0x27 ? "'" : '"', i + 1);
        if (end < 0) return null;
        const body = line.slice(i + 1, end);
        if (ch === 0x22 && (body.includes('$') || body.includes('\\'))) return null;
        word += line.slice(plain, i) + body;
        i = plain = end + 1;
        continue;
      }
      if (isSpace(ch) || isOperatorChar(ch)) break;
      if (ch === 0x24 /* $ */ || ch === 0x5c /* backslash */ || ch === 0x23 /* # */) return null;
      if (ch === 0x2a /* * */ || ch === 0x3f /* ? */) glob = true;
      i++;
    }
    word += line.slice(plain, i);
    tokens.push(glob ? ({ op: 'glob', pattern: word } as Token) : word);
  }
  return tokens;
}

/** What separates words: whitespace as `\s` has it in a regex (also the Unicode spaces). */
function isSpace(c: number): boolean {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  return c > 0x7e && SPACE.test(String.fromCharCode(c));
}
const SPACE = /\s/;

/** `|`, `&`, `;`, `(`, `)`, `<`, `>`. */
function isOperatorChar(c: number): boolean {
  return c === 0x7c || c === 0x26 || c === 0x3b || c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e;
}

/**
 * The length of the operator at `i` (0 if none), the longest of `||`, `|&`, `&&`, `&>`, `&>>`, `;;`, `;;&`, `;&`, `<(`,
 * `<<<`, `<<-`, `<<` (but `<<(` is `<` then `<(`), `<&`, `<>`, `>>`, `>&`, `>|`, `>(` and the single characters.
 */
function operatorLength(line: string, i: number): number {
  const c = line[i];
  const next = line[i + 1];
  switch (c) {
    case '|':
      return next === '|' || next === '&' ? 2 : 1;
    case '&':
      if (next === '&') return 2;
      if (next === '>') return line[i + 2] === '>' ? 3 : 2;
      return 1;
    case ';':
      if (next === ';') return line[i + 2] === '&' ? 3 : 2;
      return next === '&' ? 2 : 1;
    case '<':
      if (next === '(') return 2;
      if (next === '<') return line[i + 2] === '<' || line[i + 2] === '-' ? 3 : line[i + 2] === '(' ? 1 : 2;
      return next === '&' || next === '>' ? 2 : 1;
    case '>':
      return next === '>' || next === '&' || next === '|' || next === '(' ? 2 : 1;
    case '(':
    case ')':
      return 1;
    default:
      return 0;
  }
}
