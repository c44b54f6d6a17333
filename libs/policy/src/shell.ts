import { parse as shellParse, type ParseEntry } from 'shell-quote';
import { plainTokens } from './shell-tokens';

/**
 * Static analysis of a shell command line: the simple commands it would run, each as an argv whose first word is
 * the command's base name (`/usr/bin/git` → `git`).
 *
 * Words are split by `shell-quote`; on top of it this module
 * - treats unquoted newlines as `;`, drops comments and joins `\`-continued lines,
 * - pulls command substitutions (`$( … )`, backticks, also inside double quotes) and process substitutions
 *   (`<( … )`, `>( … )`) out as commands of their own,
 * - splits on `;`, `&&`, `||`, `|`, `|&`, `&` and subshell parentheses, skips redirection targets (and the
 *   descriptor numbers of `2>&1`), and drops the reserved words that open a command (`if`, `then`, `do`, `{`, `!`…),
 * - unwraps `VAR=1 cmd`, `env`, `sudo`, `doas`, `command`, `builtin`, `exec`, `nohup`, `time`, `nice`, `timeout`,
 *   `stdbuf`, `xargs`, `setsid`, `ionice`, `eval`, `find -exec`, `ssh`, `watch`, `strace`, `chroot` and other
 *   wrappers, keeping both the wrapper and the wrapped command,
 * - analyzes the script of `bash -c`, `sh -c` (any POSIX shell, any flag cluster with `c`) and `env -S`.
 *
 * Quoted arguments stay data (`echo "git push"` runs `echo`), except command substitutions inside double quotes,
 * which the shell runs. What cannot be known statically (`$CMD push`, `$(echo git) push`, aliases, functions, files
 * run as scripts) is not resolved.
 */
export interface ShellAnalysis {
  commands: string[][];
  /** Set when the line could not be analyzed (unbalanced quoting, nesting too deep). */
  error: string | null;
}

const MAX_DEPTH = 8;
const MAX_COMMANDS = 500;
/** Longer lines are not analyzed (tokenizing costs ~1 µs a character): policies that need the analysis deny them. */
export const MAX_SCRIPT_CHARS = 64 * 1024;
const PLACEHOLDER = '__subst__';

/** Whether a command name is only known at run time (`$CMD push`, `$(echo git) push`). */
export function isDynamicWord(word: string): boolean {
  return word.includes('$') || word.includes(PLACEHOLDER);
}

/** A simple command as people read it: substitutions shown as `$(…)`. */
export function displayCommand(argv: string[]): string {
  return argv.join(' ').replaceAll(PLACEHOLDER, '$(…)');
}

/** Analyses kept by command line: agents run the same commands again and again (`git status`, `npm test`). */
const CACHE_ENTRIES = 512;
/** Longer lines are analyzed each time, so the cache holds at most CACHE_ENTRIES × 4 KiB of text. */
const CACHE_MAX_CHARS = 4096;
/** Each line's analysis, and when it was last put at the young end of the map (in insertions, see `inserted`). */
const cache = new Map<string, { analysis: ShellAnalysis; at: number }>();
let inserted = 0;

/**
 * The analysis of a command line. The result is shared between calls with the same line (least recently used lines
 * are forgotten first) and frozen: callers only read it.
 */
export function analyzeShell(script: string): ShellAnalysis {
  if (script.length > CACHE_MAX_CHARS) return analyzeUncached(script);
  const hit = cache.get(script);
  if (hit) {
    // A line used again moves to the young end, unless it is in the young half already (it is then at least
    // CACHE_ENTRIES / 2 insertions away from being forgotten): a repeated line costs one lookup, not a map rewrite.
    if (inserted - hit.at > CACHE_ENTRIES / 2) {
      cache.delete(script);
      cache.set(script, hit);
      hit.at = ++inserted;
    }
    return hit.analysis;
  }
  const result = analyzeUncached(script);
  for (const argv of result.commands) Object.freeze(argv);
  Object.freeze(result.commands);
  Object.freeze(result);
  cache.set(script, { analysis: result, at: ++inserted });
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return result;
}

function analyzeUncached(script: string): ShellAnalysis {
  const out: ShellAnalysis = { commands: [], error: null };
  if (script.length > MAX_SCRIPT_CHARS) {
    out.error = `command too long to analyze (${script.length} characters, at most ${MAX_SCRIPT_CHARS})`;
    return out;
  }
  try {
    analyzeInto(script, 0, out);
  } catch (e) {
    out.error = (e as Error).message;
  }
  return out;
}

/** A shell command from a tool input: `command` (string) or `argv` / `cmd` (array, run without a shell). */
export function shellCommandText(input: unknown): string | null {
  if (typeof input === 'string') return input;
  if (typeof input !== 'object' || input === null) return null;
  const rec = input as Record<string, unknown>;
  for (const key of ['command', 'cmd', 'script']) {
    const v = rec[key];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((w) => typeof w === 'string')) return quoteArgv(v as string[]);
  }
  if (Array.isArray(rec.argv) && rec.argv.every((w) => typeof w === 'string')) return quoteArgv(rec.argv as string[]);
  return null;
}

function quoteArgv(argv: string[]): string {
  return argv.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function analyzeInto(script: string, depth: number, out: ShellAnalysis): void {
  if (depth > MAX_DEPTH) throw new Error('shell nesting too deep to analyze');
  const subs: string[] = [];
  const outer = extractSubstitutions(script, subs);
  for (const argv of splitSimpleCommands(outer)) addCommand(argv, depth, out);
  for (const sub of subs) analyzeInto(sub, depth + 1, out);
}

function addCommand(raw: string[], depth: number, out: ShellAnalysis): void {
  let argv = raw;
  // Reserved words that open a command (`if git push; then …`, `{ …; }`, `! cmd`, `do cmd`), and assignments.
  while (argv.length > 0 && (RESERVED.has(argv[0]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]))) argv = argv.slice(1);
  if (argv.length === 0) return;
  if (out.commands.length >= MAX_COMMANDS) throw new Error('too many commands to analyze');
  const name = baseName(argv[0]);
  const normalized = [name, ...argv.slice(1)];
  out.commands.push(normalized);

  if (SHELLS.has(name)) {
    const script = shellScript(normalized);
    if (script !== null) analyzeInto(script, depth + 1, out);
    return;
  }
  if (name === 'eval') {
    analyzeInto(normalized.slice(1).join(' '), depth + 1, out);
    return;
  }
  if (name === 'function' && normalized.length > 2) {
    // `function f { git push; }`: the body's first command shares this word list.
    addCommand(normalized.slice(2), depth + 1, out);
    return;
  }
  if (name === 'find') {
    for (const argv of findExecs(normalized)) addCommand(argv, depth + 1, out);
    return;
  }
  // Own keys only: a command named `constructor` or `toString` is no wrapper.
  const wrapper = Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
  if (!wrapper) return;
  const inner = unwrap(normalized.slice(1), wrapper);
  if (inner.split !== null) analyzeInto(inner.split, depth + 1, out);
  if (inner.argv.length === 0) return;
  // `ssh host cmd args`, `watch cmd args`: the words are joined and run by a shell.
  if (wrapper.joined) analyzeInto(inner.argv.join(' '), depth + 1, out);
  else addCommand(inner.argv, depth + 1, out);
}

/** The commands of `find … -exec cmd args ;` (also `-execdir`, `-ok`, `-okdir`, ending in `;` or `+`). */
function findExecs(argv: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 1; i < argv.length; i++) {
    if (!['-exec', '-execdir', '-ok', '-okdir'].includes(argv[i])) continue;
    let j = i + 1;
    while (j < argv.length && argv[j] !== ';' && argv[j] !== '+') j++;
    if (j > i + 1) out.push(argv.slice(i + 1, j));
    i = j;
  }
  return out;
}

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '{', '}', '!', 'esac']);

function baseName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash >= 0 && slash < word.length - 1 ? word.slice(slash + 1) : word;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish', 'busybox']);

/** The script of `bash [options] -c SCRIPT …` (options may be clustered: `-lc`, `-ec`); null without `-c`. */
function shellScript(argv: string[]): string | null {
  let args = argv.slice(1);
  if (argv[0] === 'busybox') {
    if (args.length === 0 || !SHELLS.has(baseName(args[0]))) return null;
    args = args.slice(1);
  }
  let hasC = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-o' || a === '+o' || a === '-O' || a === '+O' || a === '--rcfile' || a === '--init-file') {
      i++;
      continue;
    }
    if (a === '--') continue;
    if (a === '--command') {
      hasC = true;
      continue;
    }
    if (a.startsWith('--')) continue;
    if ((a.startsWith('-') || a.startsWith('+')) && a.length > 1) {
      if (a.slice(1).includes('c')) hasC = true;
      continue;
    }
    return hasC ? a : null;
  }
  return null;
}

interface Wrapper {
  /** Options that take the next word as their value. */
  valued: Set<string>;
  /** Positional words before the wrapped command (`timeout DURATION cmd`). */
  positional?: number;
  /** Options whose value is itself a command line (`env -S 'cmd args'`). */
  splitting?: Set<string>;
  /** `VAR=value` words may precede the command (`env`). */
  assignments?: boolean;
  /** The wrapped words are joined into one line that a shell runs (`ssh host cmd`, `watch cmd`). */
  joined?: boolean;
}

const w = (valued: string[], extra: Omit<Wrapper, 'valued'> = {}): Wrapper => ({ valued: new Set(valued), ...extra });

const WRAPPERS: Record<string, Wrapper> = {
  sudo: w(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '--user', '--group', '--host', '--prompt']),
  doas: w(['-u', '-C']),
  env: w(['-u', '-C', '--unset', '--chdir'], { splitting: new Set(['-S', '--split-string']), assignments: true }),
  command: w([]),
  builtin: w([]),
  exec: w(['-a']),
  nohup: w([]),
  time: w(['-f', '-o', '--format', '--output']),
  nice: w(['-n', '--adjustment']),
  timeout: w(['-s', '-k', '--signal', '--kill-after'], { positional: 1 }),
  stdbuf: w(['-i', '-o', '-e', '--input', '--output', '--error']),
  xargs: w(['-n', '-I', '-L', '-P', '-s', '-d', '-E', '-a', '--max-args', '--max-procs', '--delimiter', '--arg-file']),
  setsid: w([]),
  ionice: w(['-c', '-n', '-p', '--class', '--classdata']),
  coproc: w([]),
  chroot: w(['--userspec', '--groups'], { positional: 1 }),
  strace: w(['-o', '-e', '-p', '-s', '-u', '-P', '-I', '-b', '-a', '-E', '-X', '-O', '-S']),
  ltrace: w(['-o', '-e', '-p', '-s', '-u', '-n', '-a', '-l', '-x', '-L', '-w']),
  watch: w(['-n', '-d', '--interval', '--differences'], { joined: true }),
  ssh: w(
    [
      '-p',
      '-i',
      '-l',
      '-o',
      '-F',
      '-J',
      '-L',
      '-R',
      '-D',
      '-b',
      '-c',
      '-e',
      '-m',
      '-O',
      '-Q',
      '-S',
      '-W',
      '-w',
      '-E',
      '-B',
      '-I',
    ],
    {
      positional: 1,
      joined: true,
    },
  ),
  unshare: w(['-S', '-G', '-R', '-w', '--setuid', '--setgid', '--root', '--wd']),
  nsenter: w(['-t', '-S', '-G', '-r', '-w', '--target', '--setuid', '--setgid', '--root', '--wd']),
  runuser: w(['-u', '-g', '-G', '--user', '--group']),
  chronic: w([]),
  caffeinate: w(['-t', '-w']),
  firejail: w([]),
  proxychains: w(['-f']),
  proxychains4: w(['-f']),
  torsocks: w([]),
  unbuffer: w([]),
  script: w(['-c', '--command'], { splitting: new Set(['-c', '--command']) }),
};

function unwrap(args: string[], wrapper: Wrapper): { argv: string[]; split: string | null } {
  let i = 0;
  let split: string | null = null;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (wrapper.splitting?.has(a)) {
      split = args[i + 1] ?? null;
      i = args.length;
      break;
    }
    if (wrapper.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) continue;
    if (!a.startsWith('-') || a === '-') break;
    if (wrapper.valued.has(a)) i++;
  }
  i += wrapper.positional ?? 0;
  return { argv: args.slice(i), split };
}

const CONTROL = new Set([';', '&&', '||', '|', '|&', '&', ';;', '(', ')', '<(', '>(']);

type Token = ParseEntry;

/** Splits a line (substitutions already taken out) into the argv of each simple command. */
function splitSimpleCommands(line: string): string[][] {
  const tokens = plainTokens(line) ?? (shellParse(line, (key) => `$${key}`) as Token[]);
  const commands: string[][] = [];
  let current: string[] = [];
  let skipNext = false;
  const flush = (): void => {
    if (current.length > 0) commands.push(current);
    current = [];
  };
  for (const token of tokens) {
    if (typeof token === 'string') {
      if (skipNext) skipNext = false;
      else current.push(token);
      continue;
    }
    if ('comment' in token) continue;
    if (token.op === 'glob') {
      if (skipNext) skipNext = false;
      else current.push(token.pattern);
      continue;
    }
    skipNext = false;
    if (CONTROL.has(token.op)) flush();
    // A redirection: its target is a file, not an argument.
    else skipNext = true;
  }
  flush();
  return commands;
}

const TO_EXTRACT = /[\\`$<>#\n]/;

/**
 * Replaces command and process substitutions in `src` by a placeholder word, collecting their scripts in `subs`.
 * Also drops comments, joins continued lines and turns unquoted newlines into `;`.
 */
function extractSubstitutions(src: string, subs: string[]): string {
  // Without `\`, backticks, `$`, `<`, `>`, `#` or a newline there is nothing to take out: the line stays as it is,
  // once its quotes are known to close.
  if (!TO_EXTRACT.test(src)) {
    for (let i = 0; i < src.length; i++) {
      const c = src[i];
      if (c !== "'" && c !== '"') continue;
      i = src.indexOf(c, i + 1);
      if (i < 0) throw new Error('unbalanced quotes');
    }
    return src;
  }
  let out = '';
  let mode: 'plain' | 'single' | 'double' = 'plain';
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (mode === 'single') {
      if (c === "'") mode = 'plain';
      out += c;
      i++;
      continue;
    }
    if (c === '\\') {
      if (next === '\n') i += 2;
      else {
        out += c + (next ?? '');
        i += 2;
      }
      continue;
    }
    if (c === '`') {
      const end = findBacktick(src, i + 1);
      subs.push(src.slice(i + 1, end).replace(/\\([`\\$])/g, '$1'));
      out += PLACEHOLDER;
      i = end + 1;
      continue;
    }
    if (c === '$' && next === '(') {
      const end = findClose(src, i + 2);
      subs.push(src.slice(i + 2, end));
      out += PLACEHOLDER;
      i = end + 1;
      continue;
    }
    if (mode === 'double') {
      if (c === '"') mode = 'plain';
      out += c;
      i++;
      continue;
    }
    // plain
    if ((c === '<' || c === '>') && next === '(') {
      const end = findClose(src, i + 2);
      subs.push(src.slice(i + 2, end));
      out += PLACEHOLDER;
      i = end + 1;
      continue;
    }
    // `2>&1`, `2>/dev/null`: a file-descriptor number glued to a redirection is not an argument.
    if (c >= '0' && c <= '9' && (out.length === 0 || /[\s;&|()]/.test(out[out.length - 1]))) {
      let j = i;
      while (j < src.length && src[j] >= '0' && src[j] <= '9') j++;
      if ((src[j] === '<' || src[j] === '>') && src[j + 1] !== '(') {
        i = j;
        continue;
      }
    }
    if (c === "'") mode = 'single';
    else if (c === '"') mode = 'double';
    else if (c === '#' && (out.length === 0 || /[\s;&|()<>]/.test(out[out.length - 1]))) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    } else if (c === '\n') {
      out += ' ; ';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (mode !== 'plain') throw new Error('unbalanced quotes');
  return out;
}

function findBacktick(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '`') return i;
  }
  throw new Error('unbalanced backticks');
}

/** Index of the `)` that closes a `(` opened just before `from`, honouring quotes and nesting. */
function findClose(src: string, from: number): number {
  let depth = 1;
  let mode: 'plain' | 'single' | 'double' = 'plain';
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (mode === 'single') {
      if (c === "'") mode = 'plain';
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (mode === 'double') {
      if (c === '"') mode = 'plain';
      else if (c === '$' && src[i + 1] === '(') {
        i = findClose(src, i + 2);
      } else if (c === '`') i = findBacktick(src, i + 1);
      continue;
    }
    if (c === "'") mode = 'single';
    else if (c === '"') mode = 'double';
    else if (c === '`') i = findBacktick(src, i + 1);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new Error('unbalanced parentheses');
}
