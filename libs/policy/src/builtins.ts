import { posix } from 'node:path';
import { parse as shellParse } from 'shell-quote';
import { compileCel, guardsHold, type CelProgram } from './cel';
import { redactText } from './redact';
import { displayCommand, isDynamicWord } from './shell';
import type {
  AfterSpec,
  AskOnToolsSpec,
  CostBudgetSpec,
  DenyCommandsSpec,
  ExprSpec,
  Matcher,
  MaxToolCallsSpec,
  PolicySpec,
} from './spec';
import type { PolicyState } from './state';
import type { DecideContext, PolicyLevel, Verdict } from './types';
import type { ActionView } from './view';

/** One policy's opinion on one action; `null` when it has none (an implicit allow). */
export interface Opinion {
  verdict: Verdict;
  reason: string;
  askKeys?: string[];
}

/** What every decision shares: the action, the state before it, the context, and the CEL variables (lazily). */
export interface Evaluation {
  view: ActionView;
  state: PolicyState;
  ctx: DecideContext;
  celVars(): Record<string, unknown>;
  /** `compute()` once per decision for `key`, shared by every policy that asks for the same key. */
  once<T>(key: object, compute: () => T): T;
}

export interface Rule {
  decide(e: Evaluation): Opinion | null;
  /** The label this action sets if it proceeds (`after` policies); null when it sets none. */
  label?(e: Evaluation): string | null;
  /**
   * Whether this rule's asks may be answered "always allow in this session" (`allow_always`, default true, on the
   * policies that can ask about a tool call). Absent: never (limits such as `max_tool_calls` count calls, so an
   * approval of one call says nothing of the next).
   */
  allowAlways?: boolean;
}

export interface PolicyIdentity {
  type: string;
  name: string;
  level: PolicyLevel;
}

/**
 * Compiles one validated spec; throws with a readable message when it cannot (bad regex, CEL that does not parse).
 * The rules of one policy set share `pool` (see `RegexPool`).
 */
export function compileRule(spec: PolicySpec, id: PolicyIdentity, pool: RegexPool = new RegexPool()): Rule {
  switch (spec.type) {
    case 'cost_budget':
      return costBudget(spec, id);
    case 'after':
      return after(spec, id, pool);
    case 'max_tool_calls':
      return maxToolCalls(spec, id);
    case 'ask_on_tools':
      return askOnTools(spec, id, pool);
    case 'deny_commands':
      return denyCommands(spec);
    case 'working_dir':
      return WORKING_DIR;
    case 'egress':
      return { decide: () => null };
    case 'expr':
      return expr(spec);
    case 'sandbox':
    case 'telemetry':
    case 'price_table':
      return { decide: () => null };
  }
}

/** Ask keys are `<type>:<level>:<name>:<detail>`; per-call ones have `@call:<callId>` as detail (see `confirmUpdate`). */
const keyOf = (id: PolicyIdentity, detail: string): string => `${id.type}:${id.level}:${id.name}:${detail}`;
const callKey = (id: PolicyIdentity, e: Evaluation): string =>
  keyOf(id, `@call:${e.view.action.type === 'tool_call' ? e.view.action.callId : ''}`);

const usd = (n: number): string => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 4 : 2)}`;

/** Spend compared to a threshold tolerates float sums (0.1 + 0.2). */
const EPSILON = 1e-9;

export function isValidCost(cost: unknown): cost is number {
  return typeof cost === 'number' && Number.isFinite(cost) && cost >= 0;
}

function costBudget(spec: CostBudgetSpec, id: PolicyIdentity): Rule {
  const thresholds = [...new Set(spec.ask_at ?? [])].sort((a, b) => a - b);
  return {
    decide({ view, state }) {
      const a = view.action;
      if (a.type === 'usage' && !isValidCost(a.costUsd)) {
        return { verdict: 'deny', reason: `usage report with an invalid cost (${describeCost(a.costUsd)}) is refused` };
      }
      const spend = state.spendUsd + (a.type === 'usage' ? a.costUsd : 0);
      if (spec.max !== undefined && spend >= spec.max - EPSILON) {
        return {
          verdict: 'deny',
          reason: `session spend ${usd(spend)} is at or over the cap of ${usd(spec.max)}`,
        };
      }
      const crossed = thresholds.filter((t) => spend >= t - EPSILON);
      const keys = crossed.map((t) => keyOf(id, String(t))).filter((k) => !state.confirmed.includes(k));
      if (keys.length === 0) return null;
      return {
        verdict: 'ask',
        reason: `session spend ${usd(spend)} reached ${usd(crossed[crossed.length - 1])}; confirm to go on`,
        askKeys: keys,
      };
    },
  };
}

function describeCost(cost: unknown): string {
  if (typeof cost !== 'number') return `not a number: ${typeof cost}`;
  if (Number.isNaN(cost)) return 'NaN';
  if (!Number.isFinite(cost)) return 'not finite';
  return 'negative';
}

/**
 * The `match` regexes of a policy set's matchers (`after`, `ask_on_tools`), kept once per source. In a decision each is
 * tested on the action's subjects at most once however many policies use it, and the alternation of them all is
 * tested first: an action none of them matches (most calls) costs one scan of each subject instead of one per regex.
 */
export class RegexPool {
  private readonly bySource = new Map<string, RegExp>();
  private union: RegExp | null | undefined;

  /** The regex for `source`, the same object for the same source. */
  regex(source: string): RegExp {
    let re = this.bySource.get(source);
    if (!re) {
      re = new RegExp(source);
      this.bySource.set(source, re);
      this.union = undefined;
    }
    return re;
  }

  /** Whether `re` (from this pool) matches one of the action's subjects, as `view.subjects.some((s) => re.test(s))`. */
  test(e: Evaluation, re: RegExp): boolean {
    if (!e.once(this, () => this.mayMatch(e.view.subjects))) return false;
    return e.once(re, () => e.view.subjects.some((s) => re.test(s)));
  }

  /** False when no regex of the pool matches any of `subjects`. */
  private mayMatch(subjects: readonly string[]): boolean {
    if (this.union === undefined) this.union = alternation([...this.bySource.keys()]);
    const union = this.union;
    return union === null || subjects.some((s) => union.test(s));
  }
}

interface CompiledMatcher {
  test(e: Evaluation): boolean;
  /** A matcher with only a `label`: it names a label other policies set and matches no call itself. */
  referenceOnly: boolean;
}

function globRegex(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRegex).join('.*')}$`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function toolTest(tools: string | string[] | undefined): ((kind: string) => boolean) | null {
  if (tools === undefined) return null;
  const list = Array.isArray(tools) ? tools : [tools];
  const exact = new Set(list.filter((t) => !t.includes('*')));
  const globs = list.filter((t) => t.includes('*')).map(globRegex);
  return (kind) => exact.has(kind) || globs.some((g) => g.test(kind));
}

function compileMatcher(m: Matcher, pool: RegexPool): CompiledMatcher {
  const tool = toolTest(m.tool);
  const re = m.match === undefined ? null : pool.regex(m.match);
  return {
    referenceOnly: m.label !== undefined && m.tool === undefined && m.match === undefined,
    test(e) {
      const { view } = e;
      if (!view.isToolCall) return false;
      if (tool && !tool(view.tool)) return false;
      return re === null || pool.test(e, re);
    },
  };
}

function after(spec: AfterSpec, id: PolicyIdentity, pool: RegexPool): Rule {
  const earlierSpec = (spec.if_earlier ?? spec.before) as Matcher;
  const earlier = compileMatcher(earlierSpec, pool);
  const later = compileMatcher((spec.then ?? spec.after) as Matcher, pool);
  const label = earlierSpec.label ?? `after.${id.level}.${id.name}`;
  const head = spec.reason ? redactText(spec.reason, 300) : `this call comes after one labelled "${label}"`;
  return {
    allowAlways: spec.allow_always ?? true,
    label: (e) => (!earlier.referenceOnly && earlier.test(e) ? label : null),
    decide(e) {
      const { view, state } = e;
      if (!later.test(e)) return null;
      const prior = Object.hasOwn(state.labels, label) ? state.labels[label] : null;
      // One command line that does both (`npm i x && git push`) counts too.
      const sameCall = prior === null && !earlier.referenceOnly && earlier.test(e);
      if (prior === null && !sameCall) return null;
      const earlierText = prior ? `earlier: ${prior.last}` : `in the same call: ${view.summary}`;
      return {
        verdict: spec.verdict,
        reason: `${head} (${earlierText})`,
        askKeys: spec.verdict === 'ask' ? [keyOf(id, `${label}#${prior?.count ?? 0}`)] : undefined,
      };
    },
  };
}

function maxToolCalls(spec: MaxToolCallsSpec, id: PolicyIdentity): Rule {
  const perKind = Object.entries(spec.per_kind ?? {});
  return {
    decide(e) {
      const { view, state } = e;
      if (!view.isToolCall) return null;
      const over: string[] = [];
      if (spec.max !== undefined && state.toolCalls + 1 > spec.max) {
        over.push(`the session already made ${state.toolCalls} tool calls (limit ${spec.max})`);
      }
      for (const [kind, limit] of perKind) {
        if (kind !== view.tool) continue;
        const done = Object.hasOwn(state.toolCallsByKind, kind) ? state.toolCallsByKind[kind] : 0;
        if (done + 1 > limit) over.push(`the session already made ${done} ${kind} calls (limit ${limit})`);
      }
      if (over.length === 0) return null;
      return {
        verdict: spec.verdict,
        reason: over.join('; '),
        askKeys: spec.verdict === 'ask' ? [callKey(id, e)] : undefined,
      };
    },
  };
}

function askOnTools(spec: AskOnToolsSpec, id: PolicyIdentity, pool: RegexPool): Rule {
  const tool = toolTest(spec.tools);
  const res = spec.match?.map((m) => pool.regex(m)) ?? null;
  return {
    allowAlways: spec.allow_always ?? true,
    decide(e) {
      const { view } = e;
      if (!view.isToolCall) return null;
      if (tool && !tool(view.tool)) return null;
      // Some subject matching some regex: the same as some regex matching some subject.
      if (res && !res.some((re) => pool.test(e, re))) return null;
      return { verdict: 'ask', reason: `${view.summary} needs approval`, askKeys: [callKey(id, e)] };
    },
  };
}

interface CommandPattern {
  source: string;
  /** `source` as reasons show it (redacted, clipped). */
  shown: string;
  test(argv: string[], line: string): boolean;
  /** A `re:` pattern's regex. */
  regex?: RegExp;
  /** A word pattern's command name (a regex for a glob such as `mkfs*`). */
  name?: string | RegExp;
}

/**
 * `git push --force`: the command's name, then each word in order (others may sit between); `re:` for a regex tested
 * on the whole line and on each simple command. A short-flag cluster (`-rf`) is satisfied by those flags in any
 * order or split (`-f -r`, `-vfr`); absolute paths compare normalized (`//`, `/./` and a trailing `/` do not help).
 */
export function compileCommandPattern(source: string): CommandPattern {
  if (source.startsWith('re:')) {
    const re = new RegExp(source.slice(3));
    return { source, shown: redactText(source, 100), regex: re, test: (_argv, line) => re.test(line) };
  }
  const words = shellParse(source).map((t) =>
    typeof t === 'string' ? t : 'op' in t && t.op === 'glob' ? t.pattern : '',
  );
  if (words.length === 0 || words.some((w) => w === '')) {
    throw new Error(`pattern "${source}" must be plain words (quote shell operators, or use re:<regex>)`);
  }
  const first = words[0].slice(words[0].lastIndexOf('/') + 1);
  const flagLetters: string[] = [];
  const rest: string[] = [];
  for (const w of words.slice(1)) {
    if (SHORT_FLAGS.test(w)) flagLetters.push(...w.slice(1));
    else rest.push(w);
  }
  const matchers = [first, ...rest].map((w) => (w.includes('*') ? globRegex(w) : normalizeWord(w)));
  const eq = (m: string | RegExp, w: string): boolean => (typeof m === 'string' ? m === w : m.test(w));
  return {
    source,
    shown: redactText(source, 100),
    name: matchers[0],
    test(argv) {
      // A name only known at run time (`$(echo git) push`) may be any command: the rest of the pattern decides.
      if (argv.length === 0 || !(eq(matchers[0], argv[0]) || isDynamicWord(argv[0]))) return false;
      if (flagLetters.length > 0) {
        const given = new Set<string>();
        for (let j = 1; j < argv.length; j++)
          if (SHORT_FLAGS.test(argv[j])) for (const c of argv[j].slice(1)) given.add(c);
        if (!flagLetters.every((c) => given.has(c))) return false;
      }
      let i = 1;
      for (let j = 1; j < argv.length && i < matchers.length; j++) {
        const m = matchers[i];
        if (eq(m, argv[j]) || (typeof m === 'string' && m.startsWith('/') && eq(m, normalizeWord(argv[j])))) i++;
      }
      return i === matchers.length;
    },
  };
}

const SHORT_FLAGS = /^-[A-Za-z0-9]+$/;

/** `//`, `/a/./b/`, `/a/../b` → their normal form; other words unchanged. */
function normalizeWord(word: string): string {
  return word.startsWith('/') ? posix.normalize(word).replace(/(.)\/$/, '$1') : word;
}

/**
 * One regex that matches wherever one of `sources` matches (`(?:a)|(?:b)`): one scan of a line instead of one per
 * pattern. Null when there is none, or when they cannot be combined without changing what one of them means: a
 * backreference or octal escape (`\1`, `\k<name>`) would read the groups of the others, and two groups of the same
 * name do not compile together.
 */
export function alternation(sources: readonly string[]): RegExp | null {
  if (sources.length === 0 || sources.some((s) => /\\[1-9k]/.test(s))) return null;
  try {
    return new RegExp(sources.length === 1 ? sources[0] : sources.map((s) => `(?:${s})`).join('|'));
  } catch {
    return null;
  }
}

interface PatternList {
  /** Every candidate, in the policy's order. */
  all: CommandPattern[];
  /** The same without the `re:` patterns, for a line none of them matches. */
  words: CommandPattern[];
}

/**
 * The patterns of one `deny_commands` policy, arranged so that a simple command is only tested against those that
 * can match it: the patterns for its name, those whose name is a glob, and the `re:` patterns if their alternation
 * matches the line at all (a name only known at run time may be any of them). Candidates keep the policy's order, so
 * the first that matches is the one `patterns.find` would give: the one a reason names.
 */
export class CommandPatterns {
  private readonly regexes: CommandPattern[];
  private readonly anyRegex: RegExp | null;
  private readonly byName = new Map<string, PatternList>();
  private readonly otherNames: PatternList;
  private readonly anyName: PatternList;
  private readonly noName: PatternList;

  constructor(readonly patterns: readonly CommandPattern[]) {
    this.regexes = patterns.filter((p) => p.regex);
    // Null while there are `re:` patterns means they could not be combined: each is then tested.
    this.anyRegex = alternation(this.regexes.map((p) => p.source.slice(3)));
    const list = (keep: (p: CommandPattern) => boolean): PatternList => {
      const all = patterns.filter((p) => p.regex || keep(p));
      return { all, words: all.filter((p) => !p.regex) };
    };
    for (const p of patterns) {
      if (typeof p.name === 'string' && !this.byName.has(p.name)) {
        const name = p.name;
        this.byName.set(
          name,
          list((q) => q.name === name || q.name instanceof RegExp),
        );
      }
    }
    this.otherNames = list((q) => q.name instanceof RegExp);
    this.anyName = list(() => true);
    this.noName = list(() => false);
  }

  /** The first `re:` pattern that matches the whole command line. */
  lineHit(line: string): CommandPattern | undefined {
    if (this.regexes.length === 0 || (this.anyRegex && !this.anyRegex.test(line))) return undefined;
    return this.regexes.find((p) => p.test([], line));
  }

  /** The first pattern that matches a simple command (`line`: its words joined by spaces). */
  hit(argv: readonly string[], line: string): CommandPattern | undefined {
    const name = argv.length > 0 ? argv[0] : undefined;
    const lists =
      name === undefined
        ? this.noName
        : isDynamicWord(name)
          ? this.anyName
          : (this.byName.get(name) ?? this.otherNames);
    const noRegexMatches = this.regexes.length === 0 || (this.anyRegex !== null && !this.anyRegex.test(line));
    const candidates = noRegexMatches ? lists.words : lists.all;
    for (let i = 0; i < candidates.length; i++) if (candidates[i].test(argv as string[], line)) return candidates[i];
    return undefined;
  }
}

function denyCommands(spec: DenyCommandsSpec): Rule {
  const patterns = new CommandPatterns(spec.patterns.map(compileCommandPattern));
  return {
    decide({ view }) {
      if (!view.isShell) return null;
      if (view.command === null) return { verdict: 'deny', reason: 'shell call without a command line to check' };
      const analysis = view.shell;
      if (analysis.error) {
        return { verdict: 'deny', reason: `could not analyze the command (${analysis.error}): ${view.summary}` };
      }
      // The whole line first (a `re:` pattern may span a pipe), then each simple command.
      const whole = view.command;
      const lineHit = patterns.lineHit(whole);
      if (lineHit) {
        return {
          verdict: 'deny',
          reason: `${view.summary} matches the denied command "${lineHit.shown}"`,
        };
      }
      const lines = view.commandLines;
      for (let k = 0; k < analysis.commands.length; k++) {
        const argv = analysis.commands[k];
        const hit = patterns.hit(argv, lines[k]);
        if (hit) {
          return {
            verdict: 'deny',
            reason: isDynamicWord(argv[0])
              ? `\`${redactText(displayCommand(argv), 160)}\` runs a command only known at run time, which may be the denied "${hit.shown}"`
              : `\`${redactText(displayCommand(argv), 160)}\` matches the denied command "${hit.shown}"`,
          };
        }
      }
      return null;
    },
  };
}

/**
 * `cd`, `pushd`, `git -C` and file paths must stay inside the session workspace. The rule has no options, so every
 * `working_dir` policy of a set has the same opinion: it is worked out once per decision.
 */
const WORKING_DIR: Rule = { decide: (e) => e.once(WORKING_DIR, () => workingDirOpinion(e)) };

function workingDirOpinion({ view, ctx }: Evaluation): Opinion | null {
  if (!view.isToolCall) return null;
  const workspace = ctx.session.workspace;
  if (!workspace || !workspace.startsWith('/')) {
    return { verdict: 'deny', reason: 'the session has no absolute workspace to keep calls inside' };
  }
  const root = posix.normalize(workspace).replace(/(.)\/$/, '$1');
  const outside = (target: string, base: string): string | null => {
    if (target.startsWith('~')) return `${target} (home directory)`;
    if (target.includes('$') || target.includes('__subst__') || target === '-') return `${target} (not resolvable)`;
    const abs = posix.normalize(target.startsWith('/') ? target : posix.join(base, target)).replace(/(.)\/$/, '$1');
    return abs === root || abs.startsWith(root === '/' ? '/' : `${root}/`) ? null : abs;
  };
  const fail = (what: string): Opinion => ({
    verdict: 'deny',
    reason: `${redactText(what, 200)} is outside the workspace ${redactText(root, 200)}`,
  });
  const a = view.action;
  if (a.type !== 'tool_call') return null;
  if (view.isShell) {
    const input = a.input as { cwd?: unknown } | null;
    let cwd = root;
    if (input && typeof input === 'object' && typeof input.cwd === 'string' && input.cwd) {
      const bad = outside(input.cwd, root);
      if (bad) return fail(`working directory ${bad}`);
      cwd = posix.normalize(input.cwd.startsWith('/') ? input.cwd : posix.join(root, input.cwd));
    }
    if (view.shell.error) return { verdict: 'deny', reason: `could not analyze the command (${view.shell.error})` };
    for (const argv of view.shell.commands) {
      for (const { target, moves } of directoryTargets(argv)) {
        const bad = outside(target, cwd);
        if (bad) return fail(`\`${displayCommand(argv)}\` goes to ${bad}`);
        if (moves) cwd = posix.normalize(target.startsWith('/') ? target : posix.join(cwd, target));
      }
    }
    return null;
  }
  for (const path of view.paths) {
    const bad = outside(path, root);
    if (bad) return fail(`${a.tool} path ${bad}`);
  }
  return null;
}

/** Directories a simple command changes to (`cd`, `pushd`) or works in (`git -C`, `--git-dir`, `--work-tree`). */
function directoryTargets(argv: string[]): { target: string; moves: boolean }[] {
  const [name, ...args] = argv;
  if (name === 'cd' || name === 'pushd' || name === 'chdir') {
    const operands = args.filter((a) => !/^-[LPe@]+$/.test(a) && a !== '--');
    if (name === 'pushd' && operands.length > 0 && /^[+-]\d+$/.test(operands[0])) return [];
    return [{ target: operands[0] ?? '~', moves: true }];
  }
  if (name !== 'git') return [];
  const out: { target: string; moves: boolean }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-C' && i + 1 < args.length) out.push({ target: args[++i], moves: false });
    else if (a === '-c') i++;
    else if (a.startsWith('--git-dir=') || a.startsWith('--work-tree=')) {
      out.push({ target: a.slice(a.indexOf('=') + 1), moves: false });
    } else if (a === '--git-dir' || a === '--work-tree') {
      if (i + 1 < args.length) out.push({ target: args[++i], moves: false });
    } else if (!a.startsWith('-')) break;
  }
  return out;
}

function expr(spec: ExprSpec): Rule {
  const program: CelProgram = compileCel(spec.when);
  const reason = redactText(spec.reason ?? `expression matched: ${spec.when}`, 300);
  const opinion: Opinion = { verdict: spec.verdict, reason };
  return {
    allowAlways: spec.allow_always ?? true,
    decide(e) {
      // `action.tool == "shell" && …` on a file read is false without evaluating (or converting) anything.
      if (!guardsHold(program.guards, e.view.action)) return null;
      return program.run(e.celVars()) ? opinion : null;
    },
  };
}
