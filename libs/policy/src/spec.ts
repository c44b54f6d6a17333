import { ToolKind } from '@yoke/protocol';
import { z } from 'zod';

/** Policy names end up in ask keys (`<type>:<level>:<name>:…`), so they never contain `:`. */
const PolicyName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.\- ]+$/, 'letters, digits, spaces, "_", "-" and "." only');

const Regex = z
  .string()
  .min(1)
  .max(2000)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
    }
  });

/** A canonical tool kind, or a glob over kinds (`mcp:*`, `file_*`). */
const ToolKindPattern = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => s.includes('*') || ToolKind.safeParse(s).success, {
    message:
      'unknown tool kind (expected shell, file_read, file_write, file_edit, file_list, search, web_fetch, ' +
      'web_search, agent, mcp:<server>/<tool>, other:<native>, or a glob such as mcp:*)',
  });

const Label = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "-" and "." only');

/**
 * Which tool calls a policy is about. `tool` narrows by kind; `match` is a regular expression tested against the
 * shell command (the whole line and each simple command in it), the file path(s), or otherwise the JSON of the
 * input. An empty matcher matches every tool call.
 */
export const Matcher = z.strictObject({
  tool: z.union([ToolKindPattern, z.array(ToolKindPattern).min(1).max(50)]).optional(),
  match: Regex.optional(),
  /** In `if_earlier` only: the session label the earlier call sets (and that later calls are checked against). */
  label: Label.optional(),
});
export type Matcher = z.infer<typeof Matcher>;

const Usd = z.number().finite().nonnegative();

const common = { name: PolicyName.optional() };

/**
 * On a policy that can ask: whether the human may answer "always allow in this session" (`approve_session`). The same
 * action then proceeds without asking again in this session: the same tool, and for a shell call the exact same
 * command line, for a file tool the same paths (`grantKey`). Default true; `false` makes every such call ask. A deny
 * is never affected.
 */
const AllowAlways = z.boolean().optional();

export const CostBudgetSpec = z.strictObject({
  type: z.literal('cost_budget'),
  ...common,
  /** Spend thresholds (USD) at which a human must confirm before the session goes on. */
  ask_at: z.array(Usd).max(20).optional(),
  /** Hard cap (USD): at or past it every action is denied. */
  max: Usd.optional(),
});

export const AfterSpec = z
  .strictObject({
    type: z.literal('after'),
    ...common,
    /** The earlier call. When it proceeds, it sets its label in the session state. */
    if_earlier: Matcher.optional(),
    /** The later call that is asked about (or denied) once the label is set. */
    then: Matcher.optional(),
    /** Accepted spellings of `if_earlier` and `then`. */
    before: Matcher.optional(),
    after: Matcher.optional(),
    verdict: z.enum(['ask', 'deny']).default('ask'),
    reason: z.string().min(1).max(500).optional(),
    allow_always: AllowAlways,
  })
  .superRefine((spec, ctx) => {
    const pairs: [keyof typeof spec, keyof typeof spec][] = [
      ['if_earlier', 'before'],
      ['then', 'after'],
    ];
    for (const [main, alias] of pairs) {
      const count = Number(spec[main] !== undefined) + Number(spec[alias] !== undefined);
      if (count === 0) ctx.addIssue({ code: 'custom', path: [main], message: `missing required field "${main}"` });
      if (count === 2) {
        ctx.addIssue({ code: 'custom', path: [alias], message: `"${alias}" is another name for "${main}": give one` });
      }
    }
    const later = spec.then ?? spec.after;
    if (later?.label !== undefined) {
      const key = spec.then ? 'then' : 'after';
      ctx.addIssue({ code: 'custom', path: [key, 'label'], message: 'label only applies to the earlier call' });
    }
  });

export const MaxToolCallsSpec = z.strictObject({
  type: z.literal('max_tool_calls'),
  ...common,
  /** Most tool calls in the session, all kinds together. */
  max: z.number().int().nonnegative().optional(),
  /** Most tool calls of one kind. */
  per_kind: z
    .record(z.string(), z.number().int().nonnegative())
    // Checked here rather than on the record's key schema, whose own message ("Invalid key in record") hides why.
    .superRefine((limits, ctx) => {
      for (const kind of Object.keys(limits)) {
        if (!ToolKind.safeParse(kind).success) {
          ctx.addIssue({ code: 'custom', path: [kind], message: `unknown tool kind "${kind}"` });
        }
      }
    })
    .optional(),
  verdict: z.enum(['deny', 'ask']).default('deny'),
});

export const AskOnToolsSpec = z.strictObject({
  type: z.literal('ask_on_tools'),
  ...common,
  tools: z.array(ToolKindPattern).min(1).max(50).optional(),
  /** Regular expressions on the command or path; when given, only matching calls ask. */
  match: z.array(Regex).min(1).max(50).optional(),
  allow_always: AllowAlways,
});

export const DenyCommandsSpec = z.strictObject({
  type: z.literal('deny_commands'),
  ...common,
  /** Command patterns: words matched in order (`*` globs within a word), or `re:<regex>` on the whole command. */
  patterns: z
    .array(
      z
        .string()
        .min(1)
        .max(500)
        .superRefine((p, ctx) => {
          if (!p.startsWith('re:')) return;
          try {
            new RegExp(p.slice(3));
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
          }
        }),
    )
    .min(1)
    .max(200),
});

export const WorkingDirSpec = z.strictObject({
  type: z.literal('working_dir'),
  ...common,
});

const HostPattern = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9*.:/\-_]+$/, 'a host such as example.com, *.example.com or *');

export const EgressSpec = z.strictObject({
  type: z.literal('egress'),
  ...common,
  allow: z.array(HostPattern).max(500).optional(),
  deny: z.array(HostPattern).max(500).optional(),
});

export const ExprSpec = z.strictObject({
  type: z.literal('expr'),
  ...common,
  /** A CEL expression over `action`, `state`, `actor` and `session` that yields a bool. */
  when: z.string().min(1).max(4000),
  verdict: z.enum(['allow', 'ask', 'deny']),
  reason: z.string().min(1).max(500).optional(),
  allow_always: AllowAlways,
});

/**
 * Org level only: where Omnibox (bwrap) cannot run on a runner, sessions may run unsandboxed instead of being
 * refused. Recorded on every session it affects. Ignored at agent and session level (they can only tighten).
 */
export const SandboxSpec = z.strictObject({
  type: z.literal('sandbox'),
  ...common,
  allow_none: z.literal(true),
});

/**
 * Org level only: what Yoke's OpenTelemetry traces may carry. By default spans hold ids, models, tokens, tools and
 * verdicts, never content; `content: true` adds prompts, answers and tool input and output, redacted like logs.
 */
export const TelemetrySpec = z.strictObject({
  type: z.literal('telemetry'),
  ...common,
  content: z.boolean(),
});

/** Micro-dollars per million tokens (so $3 / MTok is 3000000), as in Yoke's own price table. */
const MicrosPerMTok = z.number().int().nonnegative().max(1_000_000_000_000);

/**
 * Org level only: the org's own prices (a negotiated rate, a private model), used before Yoke's price table for the
 * models they match when metered calls are priced. Prices are integer micro-dollars per million tokens; `version`
 * is recorded with each call priced from it.
 */
export const PriceTableSpec = z.strictObject({
  type: z.literal('price_table'),
  ...common,
  version: z.string().min(1).max(100),
  models: z
    .array(
      z.strictObject({
        /** A model id, or a prefix ending in `*`. */
        match: z.string().min(1).max(200),
        input: MicrosPerMTok,
        output: MicrosPerMTok,
        cache_read: MicrosPerMTok,
        cache_write: MicrosPerMTok,
      }),
    )
    .min(1)
    .max(500),
});

export const PolicySpec = z.discriminatedUnion('type', [
  CostBudgetSpec,
  AfterSpec,
  MaxToolCallsSpec,
  AskOnToolsSpec,
  DenyCommandsSpec,
  WorkingDirSpec,
  EgressSpec,
  ExprSpec,
  SandboxSpec,
  TelemetrySpec,
  PriceTableSpec,
]);
export type PolicySpec = z.infer<typeof PolicySpec>;
export type PolicyType = PolicySpec['type'];
export const POLICY_TYPES: PolicyType[] = PolicySpec.options.map((o) => o.shape.type.value);

export type CostBudgetSpec = z.infer<typeof CostBudgetSpec>;
export type AfterSpec = z.infer<typeof AfterSpec>;
export type MaxToolCallsSpec = z.infer<typeof MaxToolCallsSpec>;
export type AskOnToolsSpec = z.infer<typeof AskOnToolsSpec>;
export type DenyCommandsSpec = z.infer<typeof DenyCommandsSpec>;
export type EgressSpec = z.infer<typeof EgressSpec>;
export type ExprSpec = z.infer<typeof ExprSpec>;
