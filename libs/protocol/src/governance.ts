import { z } from 'zod';
import { IsoDate, Uuid } from './common';

/**
 * Governance: what agents cost, metered where the harness cannot misreport it (the egress proxy reads the
 * provider's own usage), priced from a versioned table in integer micro-dollars, reported so every total ties out
 * to its rows, and the audit log streamed to an org's SIEM (docs/governance.md).
 */

export const MeteredProvider = z.enum(['anthropic', 'openai', 'openai_compatible', 'google']);
export type MeteredProvider = z.infer<typeof MeteredProvider>;
/** Anthropic Messages, OpenAI Responses, (OpenAI-compatible) Chat Completions. */
export const MeteredApi = z.enum(['messages', 'responses', 'chat_completions', 'generate_content']);
export type MeteredApi = z.infer<typeof MeteredApi>;
export const TokenCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A micro-dollar is 1e-6 USD; every cost Yoke computes is an integer count of them. */
export const MICROS_PER_USD = 1_000_000;

/** Prices of one model family, in micro-dollars per million tokens (so $3 / MTok is 3_000_000). */
export const ModelPrice = z.strictObject({
  /** Model ids this row prices: exact, or a prefix ending in `*` (`claude-sonnet-4*`). */
  match: z.string().min(1).max(200),
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cacheRead: z.number().int().nonnegative(),
  cacheWrite: z.number().int().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

export const PriceTable = z.strictObject({
  version: z.string().min(1).max(100),
  models: z.array(ModelPrice).max(1000),
});
export type PriceTable = z.infer<typeof PriceTable>;

/**
 * The table kept in the repo. A new price is a new version (never an edit of a published one), so a recorded cost
 * can always be recomputed from its `priceVersion`.
 */
export const PRICE_TABLE: PriceTable = {
  version: '2026-12-05',
  models: [
    { match: 'claude-opus-4-6*', input: 5_000_000, output: 25_000_000, cacheRead: 500_000, cacheWrite: 6_250_000 },
    { match: 'claude-opus-4-5*', input: 5_000_000, output: 25_000_000, cacheRead: 500_000, cacheWrite: 6_250_000 },
    { match: 'claude-opus-4*', input: 15_000_000, output: 75_000_000, cacheRead: 1_500_000, cacheWrite: 18_750_000 },
    { match: 'claude-sonnet-4*', input: 3_000_000, output: 15_000_000, cacheRead: 300_000, cacheWrite: 3_750_000 },
    { match: 'claude-haiku-4*', input: 1_000_000, output: 5_000_000, cacheRead: 100_000, cacheWrite: 1_250_000 },
    { match: 'gpt-5-nano*', input: 50_000, output: 400_000, cacheRead: 5_000, cacheWrite: 50_000 },
    { match: 'gpt-5-mini*', input: 250_000, output: 2_000_000, cacheRead: 25_000, cacheWrite: 250_000 },
    { match: 'gpt-5*', input: 1_250_000, output: 10_000_000, cacheRead: 125_000, cacheWrite: 1_250_000 },
    { match: 'gpt-4.1-nano*', input: 100_000, output: 400_000, cacheRead: 25_000, cacheWrite: 100_000 },
    { match: 'gpt-4.1-mini*', input: 400_000, output: 1_600_000, cacheRead: 100_000, cacheWrite: 400_000 },
    { match: 'gpt-4.1*', input: 2_000_000, output: 8_000_000, cacheRead: 500_000, cacheWrite: 2_000_000 },
    { match: 'gpt-4o-mini*', input: 150_000, output: 600_000, cacheRead: 75_000, cacheWrite: 150_000 },
    { match: 'gpt-4o*', input: 2_500_000, output: 10_000_000, cacheRead: 1_250_000, cacheWrite: 2_500_000 },
    // Gemini: prompts up to 200k tokens (longer prompts are billed higher; not modelled). Context cache storage is
    // billed by the hour and is not a per-call cost: a cache write is billed as input.
    { match: 'gemini-3-pro*', input: 2_000_000, output: 12_000_000, cacheRead: 200_000, cacheWrite: 2_000_000 },
    { match: 'gemini-2.5-pro*', input: 1_250_000, output: 10_000_000, cacheRead: 125_000, cacheWrite: 1_250_000 },
    { match: 'gemini-2.5-flash-lite*', input: 100_000, output: 400_000, cacheRead: 10_000, cacheWrite: 100_000 },
    { match: 'gemini-2.5-flash*', input: 300_000, output: 2_500_000, cacheRead: 30_000, cacheWrite: 300_000 },
    { match: 'gemini-2.0-flash*', input: 100_000, output: 400_000, cacheRead: 25_000, cacheWrite: 100_000 },
  ],
};

export type TokensByKind = {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
};

/** The row of `table` that prices `model`: an exact match first, else the longest matching prefix. */
export function findPrice(model: string, table: PriceTable = PRICE_TABLE): ModelPrice | null {
  const id = model.toLowerCase();
  let best: ModelPrice | null = null;
  for (const row of table.models) {
    const m = row.match.toLowerCase();
    if (m === id) return row;
    if (m.endsWith('*') && id.startsWith(m.slice(0, -1)) && (!best || m.length > best.match.length)) best = row;
  }
  return best;
}

/**
 * The cost of one call in micro-dollars: Σ tokens × price per MTok / 1e6, summed exactly in integers and rounded
 * half up once per call. Reports add these integers, so a total is exactly the sum of its calls.
 */
export function priceCall(
  model: string,
  tokens: TokensByKind,
  table: PriceTable = PRICE_TABLE,
): { costMicros: number; priceVersion: string } {
  const row = findPrice(model, table);
  if (!row) return { costMicros: 0, priceVersion: 'unpriced' };
  const scaled =
    BigInt(tokens.inputTokens) * BigInt(row.input) +
    BigInt(tokens.outputTokens) * BigInt(row.output) +
    BigInt(tokens.cacheReadTokens) * BigInt(row.cacheRead) +
    BigInt(tokens.cacheWriteTokens) * BigInt(row.cacheWrite);
  const costMicros = Number((scaled + 500_000n) / 1_000_000n);
  return { costMicros, priceVersion: table.version };
}

/**
 * The cost of one call at the org's own prices when its table (a `price_table` org policy) has the model, else at
 * Yoke's price table. The version recorded says which.
 */
export function priceCallFor(
  model: string,
  tokens: TokensByKind,
  orgTable: PriceTable | null,
): { costMicros: number; priceVersion: string } {
  return orgTable && findPrice(model, orgTable) ? priceCall(model, tokens, orgTable) : priceCall(model, tokens);
}

/**
 * Whether what a harness reported for a turn and what the proxy metered differ by more than price rounding could
 * explain: more than 10 micro-dollars and more than 2% of the metered figure. A negative report always differs.
 */
export function usageMismatch(reportedMicros: number, meteredMicros: number): boolean {
  if (reportedMicros < 0) return true;
  const diff = Math.abs(reportedMicros - meteredMicros);
  return diff > 10 && diff > meteredMicros * 0.02;
}

// ---------------------------------------------------------------------------------------------------------------
// Usage reports: GET /api/v1/usage, `yoke usage`.

export const UsageGrouping = z.enum(['user', 'model', 'harness', 'agent', 'session', 'day']);
export type UsageGrouping = z.infer<typeof UsageGrouping>;

/** The longest range one report covers (a leap year, either bound's day included). */
export const MAX_USAGE_RANGE_DAYS = 366;

export const UsageQuery = z.strictObject({
  by: UsageGrouping.default('day'),
  /** Inclusive start, ISO-8601; default: the start of the current UTC month. */
  from: IsoDate.optional(),
  /** Exclusive end, ISO-8601; default: now. */
  to: IsoDate.optional(),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const UsageFigures = z.strictObject({
  calls: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  /** Metered at the egress proxy, integer micro-dollars. */
  costMicros: z.number().int().nonnegative(),
});
export type UsageFigures = z.infer<typeof UsageFigures>;

export const UsageRow = z.strictObject({
  /** The group's key: a user id, model id, harness, agent name, session id or `YYYY-MM-DD`. */
  key: z.string(),
  /** A readable name for the key (a user's email, a session's title) where there is one. */
  label: z.string().optional(),
  ...UsageFigures.shape,
});
export type UsageRow = z.infer<typeof UsageRow>;

export const UsageReport = z.strictObject({
  by: UsageGrouping,
  from: IsoDate,
  to: IsoDate,
  /** `org` for admins and auditors; `self` for a member (their own sessions only). */
  scope: z.enum(['org', 'self']),
  rows: z.array(UsageRow),
  /** Exactly the sum of `rows`, and of the per-call facts in the range. */
  total: UsageFigures,
  /** Cost per UTC day in the range, every day of it (zero when nothing ran), for the chart (sums to total.costMicros). */
  daily: z.array(z.strictObject({ day: z.string(), costMicros: z.number().int().nonnegative() })),
});
export type UsageReport = z.infer<typeof UsageReport>;

/**
 * Micro-dollars as US dollars with all six decimals (`$1,234.500000`), formatted from the integer so no float
 * rounding creeps in: the rows of a report printed this way add up to its printed total, digit for digit.
 */
export function formatMicrosUsd(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const digits = String(Math.abs(Math.trunc(micros))).padStart(7, '0');
  const whole = digits.slice(0, -6).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}$${whole}.${digits.slice(-6)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Audit sinks: the org's audit log streamed to a SIEM, at least once, in order, from a persisted cursor
// (docs/audit.md, "Streaming to a SIEM").

export const AuditSinkKind = z.enum(['webhook', 'otlp_logs']);
export type AuditSinkKind = z.infer<typeof AuditSinkKind>;
/** `yoke`: the audit events as stored (AuditEvent); `ocsf`: the same OCSF 1.3 mapping as the export. */
export const AuditSinkFormat = z.enum(['yoke', 'ocsf']);
export type AuditSinkFormat = z.infer<typeof AuditSinkFormat>;

/** Hosts a sink may reach over plain http: this machine only. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Whether `url` may receive audit events: https, or http to loopback; no credentials in it (views show the URL). */
export function isAuditSinkUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname.toLowerCase()));
}

/** https (http only to loopback): the webhook URL, or the OTLP/HTTP logs endpoint (`…/v1/logs`). */
export const AuditSinkUrl = z
  .url()
  .max(2000)
  .refine(isAuditSinkUrl, 'must be https (or http to 127.0.0.1, ::1 or localhost), without credentials');

export const CreateAuditSinkBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  kind: AuditSinkKind,
  url: AuditSinkUrl,
  format: AuditSinkFormat.default('yoke'),
  /** Webhook HMAC-SHA256 key; generated (and shown once) when absent. */
  secret: z.string().min(16).max(200).optional(),
  /** Deliver events from this seq on (default: from now: the log's size + 1). */
  fromSeq: z.number().int().positive().optional(),
});
export type CreateAuditSinkBody = z.infer<typeof CreateAuditSinkBody>;

export const UpdateAuditSinkBody = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  enabled: z.boolean().optional(),
  url: AuditSinkUrl.optional(),
  format: AuditSinkFormat.optional(),
});
export type UpdateAuditSinkBody = z.infer<typeof UpdateAuditSinkBody>;

export const AuditSinkHealth = z.enum(['healthy', 'failing', 'paused', 'idle']);
export type AuditSinkHealth = z.infer<typeof AuditSinkHealth>;
export const AuditSinkView = z.strictObject({
  id: Uuid,
  name: z.string(),
  kind: AuditSinkKind,
  url: z.string(),
  format: AuditSinkFormat,
  enabled: z.boolean(),
  /** Every event with seq ≤ cursor was delivered (acknowledged with a 2xx). */
  cursor: z.number().int().nonnegative(),
  /** Events appended but not yet delivered. */
  lag: z.number().int().nonnegative(),
  health: AuditSinkHealth,
  lastDeliveredAt: IsoDate.nullable(),
  lastError: z.string().nullable(),
  failingSince: IsoDate.nullable(),
  createdAt: IsoDate,
});
export type AuditSinkView = z.infer<typeof AuditSinkView>;

/** The reply to creating a webhook sink: its secret, this once. */
export const CreatedAuditSink = z.strictObject({ sink: AuditSinkView, secret: z.string().nullable() });
export type CreatedAuditSink = z.infer<typeof CreatedAuditSink>;

/**
 * The reply to `POST /audit/sinks/:id/test`: whether the sink acknowledged a test delivery (a webhook gets
 * `{"events": [], "test": true}`, signed; an OTLP endpoint one `yoke.audit.test` record). The cursor does not move.
 */
export const AuditSinkTestResult = z.strictObject({ ok: z.boolean(), error: z.string().nullable() });
export type AuditSinkTestResult = z.infer<typeof AuditSinkTestResult>;

/** Headers of a webhook delivery (the signature is `v1=` hex HMAC-SHA256 of `${timestamp}.${body}`). */
export const SINK_SIGNATURE_HEADER = 'x-yoke-signature';
export const SINK_TIMESTAMP_HEADER = 'x-yoke-timestamp';
export const SINK_DELIVERY_HEADER = 'x-yoke-delivery';
