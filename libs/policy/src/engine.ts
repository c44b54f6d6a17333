import { BuiltinToolKind, type PriceTable } from '@yoke/protocol';
import { type z } from 'zod';
import { compileRule, isValidCost, RegexPool, type Evaluation, type Opinion, type Rule } from './builtins';
import { actionField, celValue } from './cel';
import { combineEgress, type EffectiveEgress, type EgressLists } from './egress';
import { grantKey } from './grants';
import { redactText } from './redact';
import { POLICY_TYPES, PolicySpec, PriceTableSpec, SandboxSpec, TelemetrySpec, type PolicyType } from './spec';
import type { PolicyState, StateUpdate } from './state';
import type { Decision, DecideContext, PolicyAction, PolicyEntry, PolicyLevel, PolicyReason, Verdict } from './types';
import { ActionView } from './view';

const LEVEL_ORDER: Record<PolicyLevel, number> = { org: 0, agent: 1, session: 2 };
const SEVERITY: Record<Verdict, number> = { allow: 0, ask: 1, deny: 2 };

interface CompiledPolicy {
  name: string;
  type: string;
  level: PolicyLevel;
  origin: string;
  rule: Rule;
  /** Set when the policy failed to validate or compile: it then denies every action. */
  loadError: string | null;
  egress: EgressLists | null;
}

declare const compiledBrand: unique symbol;
/** Policies ready to decide with; opaque. Build with `compilePolicies`. */
export interface CompiledPolicySet {
  readonly [compiledBrand]: true;
}

interface PolicySetData {
  policies: CompiledPolicy[];
  errors: { origin: string; message: string }[];
  hasExpr: boolean;
}

const sets = new WeakMap<CompiledPolicySet, PolicySetData>();

function dataOf(set: CompiledPolicySet): PolicySetData {
  const data = sets.get(set);
  if (!data) throw new Error('not a compiled policy set (use compilePolicies)');
  return data;
}

/**
 * Validates and compiles policies, ordered org → agent → session (entry order within a level). Never throws: a
 * policy that does not validate or compile denies every action, saying why (fail closed).
 */
export function compilePolicies(entries: PolicyEntry[]): CompiledPolicySet {
  const indexed = entries.map((entry, i) => ({ entry, i }));
  indexed.sort((a, b) => levelRank(a.entry.level) - levelRank(b.entry.level) || a.i - b.i);
  const policies: CompiledPolicy[] = [];
  const errors: PolicySetData['errors'] = [];
  const perLevel = new Map<PolicyLevel, number>();
  const taken = new Set<string>();
  const pool = new RegexPool();
  for (const { entry } of indexed) {
    const level: PolicyLevel = entry.level in LEVEL_ORDER ? entry.level : 'org';
    const index = perLevel.get(level) ?? 0;
    perLevel.set(level, index + 1);
    const raw = entry.spec as { type?: unknown; name?: unknown } | null;
    const rawType = raw && typeof raw === 'object' && typeof raw.type === 'string' ? raw.type : 'policy';
    const origin = typeof entry.origin === 'string' ? entry.origin : String(entry.origin);
    let compiled: CompiledPolicy;
    const parsed = PolicySpec.safeParse(entry.spec);
    if (!parsed.success) {
      const name = uniqueName(
        taken,
        level,
        typeof raw?.name === 'string' ? raw.name : `${safeTypeName(rawType)}-${index}`,
      );
      compiled = failed(name, rawType, level, origin, `invalid policy: ${flattenIssues(parsed.error)}`);
    } else {
      const spec = parsed.data;
      const name = uniqueName(taken, level, spec.name ?? `${spec.type}-${index}`);
      try {
        const rule = compileRule(spec, { type: spec.type, name, level }, pool);
        compiled = {
          name,
          type: spec.type,
          level,
          origin,
          rule,
          loadError: null,
          egress: spec.type === 'egress' ? { allow: spec.allow, deny: spec.deny } : null,
        };
      } catch (e) {
        compiled = failed(name, spec.type, level, origin, `policy does not compile: ${(e as Error).message}`);
      }
    }
    if (compiled.loadError) errors.push({ origin: redactText(origin, 200), message: compiled.loadError });
    policies.push(compiled);
  }
  const set = Object.freeze({}) as CompiledPolicySet;
  sets.set(set, { policies, errors, hasExpr: policies.some((p) => p.type === 'expr') });
  return set;
}

function levelRank(level: unknown): number {
  return typeof level === 'string' && level in LEVEL_ORDER ? LEVEL_ORDER[level as PolicyLevel] : 0;
}

function safeTypeName(type: string): string {
  return /^[a-z_]{1,40}$/.test(type) ? type : 'policy';
}

/** Names are unique within a level (they are part of ask keys); a repeated name gets a `-2`, `-3`… suffix. */
function uniqueName(taken: Set<string>, level: PolicyLevel, wanted: string): string {
  const base = wanted.replace(/:/g, '_').slice(0, 100) || 'policy';
  let name = base;
  for (let n = 2; taken.has(`${level}:${name}`); n++) name = `${base}-${n}`;
  taken.add(`${level}:${name}`);
  return name;
}

function failed(name: string, type: string, level: PolicyLevel, origin: string, message: string): CompiledPolicy {
  const loadError = redactText(message, 1000);
  const reason = `policy "${name}" (${redactText(origin, 100)}) failed to load, so every action is denied: ${loadError}`;
  return {
    name,
    type,
    level,
    origin,
    loadError,
    rule: { decide: () => ({ verdict: 'deny', reason }) },
    // A broken egress policy (or one whose type is unreadable) allows no host at all.
    egress: type === 'egress' || !POLICY_TYPES.includes(type as PolicyType) ? { allow: [] } : null,
  };
}

function flattenIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const where = i.path.length > 0 ? `${i.path.map(String).join('.')}: ` : '';
      // Zod says `Unrecognized key: "maxx"`, which reads like a secret to the redactor; say it plainly.
      if (i.code === 'unrecognized_keys') return `${where}unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${where}${i.message}`;
    })
    .join('; ');
}

export function loadErrors(set: CompiledPolicySet): { origin: string; message: string }[] {
  return dataOf(set).errors.map((e) => ({ ...e }));
}

/** The egress host lists all egress policies leave: allow lists intersect, deny lists add up. */
export function effectiveEgress(set: CompiledPolicySet): EffectiveEgress {
  return combineEgress(dataOf(set).policies.flatMap((p) => (p.egress ? [p.egress] : [])));
}

/**
 * Decides one action. Pure and total: reads only its arguments, never throws. A policy that throws denies, with the
 * reason. Costs O(policies); the state already summarizes the history.
 */
export function decide(set: CompiledPolicySet, state: PolicyState, action: PolicyAction, ctx: DecideContext): Decision {
  try {
    return decideUnsafe(dataOf(set), state, action, ctx);
  } catch (e) {
    const reason = `the policy engine failed, so the action is denied: ${redactText(String((e as Error)?.message ?? e))}`;
    return {
      verdict: 'deny',
      reasons: [{ policy: 'engine', level: 'org', verdict: 'deny', reason }],
      policies: ['engine'],
      askKeys: [],
      sessionGrant: null,
      stateUpdate: {},
    };
  }
}

/** What the engine refuses to decide on (a caller's bug, or data that crossed a wire unchecked); null when fine. */
function malformed(action: PolicyAction): string | null {
  const a = action as Partial<Record<string, unknown>>;
  switch (a.type) {
    case 'prompt':
      return typeof a.text === 'string' ? null : 'a prompt without text';
    case 'tool_call':
      return typeof a.callId === 'string' && typeof a.tool === 'string' && typeof a.nativeTool === 'string'
        ? null
        : 'a tool call without callId, tool or nativeTool';
    case 'usage':
      // The cost is checked by the rules (an invalid one is refused and never credited), not here.
      return typeof a.model === 'string' ? null : 'a usage report without a model';
    default:
      return `unknown action type ${redactText(JSON.stringify(a.type) ?? 'undefined', 60)}`;
  }
}

function decideUnsafe(data: PolicySetData, state: PolicyState, action: PolicyAction, ctx: DecideContext): Decision {
  const problem = malformed(action);
  if (problem) throw new Error(problem);
  const view = new ActionView(action);
  let celVars: Record<string, unknown> | null = null;
  let shared: Map<object, unknown> | null = null;
  const evaluation: Evaluation = {
    view,
    state,
    ctx,
    celVars: () => (celVars ??= new CelVariables(buildCelVars(view, state, ctx)) as unknown as Record<string, unknown>),
    once<T>(key: object, compute: () => T): T {
      shared ??= new Map();
      if (shared.has(key)) return shared.get(key) as T;
      const value = compute();
      shared.set(key, value);
      return value;
    },
  };

  // Most decisions have no opinion at all: what a reason, an ask or a label needs is only built when one comes.
  let reasons: PolicyReason[] | null = null;
  let allowNames: string[] | null = null;
  let askNames: string[] | null = null;
  let denyNames: string[] | null = null;
  let askKeys: string[] | null = null;
  let labels: Record<string, string> | null = null;
  let verdict: Verdict = 'allow';
  // An action a human allowed "always for this session": the asks of policies that offer that answer become allows.
  // The grant key is only built once a policy asks; what it reads is read up front, as the policies read it too.
  if (view.isToolCall) void (view.isShell ? view.command : view.paths);
  let grant: string | null | undefined;
  const grantOf = (): string | null => (grant === undefined ? (grant = grantKey(view)) : grant);
  let granted: boolean | undefined;
  let grantable = view.isToolCall;

  const policies = data.policies;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    let opinion: Opinion | null;
    try {
      opinion = p.rule.decide(evaluation);
      if (p.rule.label) {
        const label = p.rule.label(evaluation);
        if (label !== null) (labels ??= {})[label] = view.summary;
      }
    } catch (e) {
      opinion = {
        verdict: 'deny',
        reason: `policy failed while deciding, so the action is denied: ${redactText((e as Error)?.message ?? String(e))}`,
      };
    }
    if (!opinion) continue;
    if (opinion.verdict === 'ask') {
      if (p.rule.allowAlways !== true) grantable = false;
      else {
        if (granted === undefined) {
          const key = view.isToolCall ? grantOf() : null;
          granted = key !== null && (state.granted ?? []).includes(key);
        }
        if (granted) opinion = GRANTED;
      }
    }
    (reasons ??= []).push({ policy: p.name, level: p.level, verdict: opinion.verdict, reason: opinion.reason });
    const names =
      opinion.verdict === 'allow'
        ? (allowNames ??= [])
        : opinion.verdict === 'ask'
          ? (askNames ??= [])
          : (denyNames ??= []);
    if (!names.includes(p.name)) names.push(p.name);
    if (opinion.verdict === 'ask' && opinion.askKeys) (askKeys ??= []).push(...opinion.askKeys);
    if (SEVERITY[opinion.verdict] > SEVERITY[verdict]) verdict = opinion.verdict;
  }

  return {
    verdict,
    reasons: reasons ?? [],
    policies: (verdict === 'allow' ? allowNames : verdict === 'ask' ? askNames : denyNames) ?? [],
    askKeys: verdict === 'ask' && askKeys ? [...new Set(askKeys)] : [],
    sessionGrant: verdict === 'ask' && grantable ? grantOf() : null,
    stateUpdate: updateFor(action, verdict, labels),
  };
}

const GRANTED: Opinion = Object.freeze({ verdict: 'allow', reason: 'allowed for this session by an earlier approval' });

function updateFor(action: PolicyAction, verdict: Verdict, labels: Record<string, string> | null): StateUpdate {
  switch (action.type) {
    case 'usage':
      // Applied whatever the verdict (the model call happened), so an invalid cost is never credited.
      return isValidCost(action.costUsd) && action.costUsd > 0 ? { spendUsd: action.costUsd } : {};
    case 'prompt':
      return verdict === 'deny' ? {} : { prompts: 1 };
    case 'tool_call':
      if (verdict === 'deny') return {};
      return labels ? { toolCalls: { [action.tool]: 1 }, labels } : { toolCalls: { [action.tool]: 1 } };
  }
}

const ZERO_BY_KIND: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(BuiltinToolKind.options.map((k) => [k, 0])),
);

/**
 * The variables as expressions read them: each converted to CEL values once per decision, however many `expr` policies
 * read it, and only when one does (most expressions read `action` alone; converting all four cost ~5 µs).
 */
class CelVariables {
  private convertedAction: unknown;
  private convertedState: unknown;
  private convertedActor: unknown;
  private convertedSession: unknown;

  constructor(private readonly plain: PlainCelVariables) {}

  get action(): unknown {
    return (this.convertedAction ??= celValue(this.plain.action));
  }

  get state(): unknown {
    return (this.convertedState ??= celValue(this.plain.state));
  }

  get actor(): unknown {
    return (this.convertedActor ??= celValue(this.plain.actor));
  }

  get session(): unknown {
    return (this.convertedSession ??= celValue(this.plain.session));
  }
}

type PlainCelVariables = ReturnType<typeof buildCelVars>;

/**
 * The variables of `expr` policies. Every field is always present (empty when it does not apply), so
 * `action.tool == "shell"` is simply false for a prompt.
 */
function buildCelVars(view: ActionView, state: PolicyState, ctx: DecideContext) {
  const a = view.action;
  return {
    action: {
      type: actionField(a, 'type'),
      text: a.type === 'prompt' ? a.text : '',
      callId: a.type === 'tool_call' ? a.callId : '',
      tool: actionField(a, 'tool'),
      nativeTool: actionField(a, 'nativeTool'),
      input: a.type === 'tool_call' ? celJson(a.input) : null,
      command: view.command ?? '',
      commands: view.commandLines,
      paths: view.paths,
      model: actionField(a, 'model'),
      costUsd: a.type === 'usage' && typeof a.costUsd === 'number' ? a.costUsd : 0,
      inputTokens: a.type === 'usage' ? a.inputTokens : 0,
      outputTokens: a.type === 'usage' ? a.outputTokens : 0,
    },
    state: {
      toolCalls: state.toolCalls,
      // Every built-in kind is present (0 until used): `state.toolCallsByKind.shell > 5` must not fail on a fresh session.
      toolCallsByKind: { ...ZERO_BY_KIND, ...state.toolCallsByKind },
      prompts: state.prompts,
      spendUsd: state.spendUsd,
      labels: Object.keys(state.labels),
    },
    actor: ctx.actor ? { id: ctx.actor.id, name: ctx.actor.name } : null,
    session: { id: ctx.session.id, workspace: ctx.session.workspace, ownerId: ctx.session.ownerId ?? null },
  };
}

/** Tool input as CEL sees it: JSON values only (anything else becomes null). */
function celJson(value: unknown, depth = 0): unknown {
  if (depth > 32) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map((v) => celJson(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = celJson(v, depth + 1);
    return out;
  }
  return null;
}

/**
 * Whether an org-level `sandbox` policy lets a session run without Omnibox where bwrap cannot run. Only the org
 * level counts: an agent or a session cannot loosen the sandbox.
 */
export function sandboxNoneAllowed(entries: readonly PolicyEntry[]): boolean {
  return entries.some((e) => {
    if (e.level !== 'org') return false;
    const parsed = SandboxSpec.safeParse(e.spec);
    return parsed.success && parsed.data.allow_none;
  });
}

/** Whether the org lets traces carry content (a `telemetry` policy with `content: true` at org level). */
export function traceContentAllowed(entries: readonly PolicyEntry[]): boolean {
  return entries.some((e) => {
    if (e.level !== 'org') return false;
    const parsed = TelemetrySpec.safeParse(e.spec);
    return parsed.success && parsed.data.content;
  });
}

/**
 * The org's own prices (`price_table` policies at org level), as one table tried before Yoke's: rows in policy
 * order, versions joined with `+`. Null when the org has none.
 */
export function orgPriceTable(entries: readonly PolicyEntry[]): PriceTable | null {
  const tables = entries.flatMap((e) => {
    if (e.level !== 'org') return [];
    const parsed = PriceTableSpec.safeParse(e.spec);
    return parsed.success ? [parsed.data] : [];
  });
  if (tables.length === 0) return null;
  return {
    version: tables.map((t) => t.version).join('+'),
    models: tables.flatMap((t) =>
      t.models.map((m) => ({
        match: m.match,
        input: m.input,
        output: m.output,
        cacheRead: m.cache_read,
        cacheWrite: m.cache_write,
      })),
    ),
  };
}
