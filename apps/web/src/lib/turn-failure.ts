import type { ContentPart, Item } from '@yoke/protocol';

/** What kind of failure a turn's error describes; the raw error stays available behind a disclosure. */
export type TurnFailureKind =
  'unreachable' | 'auth' | 'rate_limit' | 'provider' | 'budget' | 'policy' | 'missing_key' | 'runner_restart' | 'other';

const SENTENCE: Record<TurnFailureKind, string> = {
  unreachable: 'Yoke could not reach the model provider.',
  auth: 'The model provider refused the API key.',
  rate_limit: 'The model provider is rate limiting requests. Wait a moment, then retry.',
  provider: 'The model provider had an error on its side.',
  budget: 'A budget limit stopped this turn.',
  policy: 'A policy stopped this turn.',
  missing_key: 'No API key for the model provider is set on this runner.',
  runner_restart: 'The runner stopped during this turn.',
  other: 'The turn failed.',
};

// Runners word these themselves (apps/runner: policy-gate, session-supervisor; libs/harness: missing keys).
const BUDGET = /\bbudget\b|\bspend(ing)? cap\b|\bcost cap\b/i;
const POLICY = /^(stopped by policy|denied by policy)\b|\bapproval (denied|timeout|timed out|cancelled|expired)\b/i;
const MISSING_KEY = /\b[A-Z][A-Z0-9_]*_API_KEY is not set\b/;
const RUNNER_RESTART = /^the runner stopped during this turn\b/i;

// What harnesses and provider SDKs print: `HTTP 401`, `status 429`, `API Error: 503`, `429 Too Many Requests`.
const STATUS = /\b(?:HTTP|status(?: code)?|API Error|error code|code)[\s:=(]*([1-5]\d\d)\b|\b([45]\d\d) [A-Z][a-z]+/;
const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|getaddrinfo|cannot reach|could not reach|connection (refused|error|reset)|fetch failed|socket hang up|timed? ?out/i;
const AUTH =
  /unauthori[sz]ed|authentication_error|invalid[ _-]?(x-)?api[ _-]?key|incorrect api key|permission_error|forbidden/i;
const RATE_LIMIT = /rate[ _-]?limit|too many requests|resource_exhausted/i;
const PROVIDER =
  /overloaded|server_error|internal server error|bad gateway|service unavailable|api_error|internal error/i;

function kindOf(error: string): TurnFailureKind {
  if (BUDGET.test(error)) return 'budget';
  if (POLICY.test(error)) return 'policy';
  if (RUNNER_RESTART.test(error)) return 'runner_restart';
  if (MISSING_KEY.test(error)) return 'missing_key';
  const m = STATUS.exec(error);
  const status = m ? Number(m[1] ?? m[2]) : null;
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limit';
  // A sandbox's egress proxy answers 502 for a provider it could not connect to: that is still out of reach.
  if (UNREACHABLE.test(error)) return 'unreachable';
  if (status !== null && status >= 500) return 'provider';
  if (AUTH.test(error)) return 'auth';
  if (RATE_LIMIT.test(error)) return 'rate_limit';
  if (PROVIDER.test(error)) return 'provider';
  return 'other';
}

/** A failed turn's error as one sentence a person understands (the raw error is the detail). */
export function describeTurnFailure(error: string): { kind: TurnFailureKind; sentence: string } {
  const kind = kindOf(error);
  return { kind, sentence: SENTENCE[kind] };
}

/** At most this many parts in one message (the protocol's limit for a message's content). */
const MAX_PARTS = 100;

/**
 * What a turn was asked, to send again: the content of its user messages in order (a message that joined the
 * running turn is part of what it was asked). Null when the turn has none (a turn the runner lost before it).
 */
export function promptOfTurn(items: readonly Item[], turnId: string): ContentPart[] | null {
  const parts = items.flatMap((i) => (i.type === 'user_message' && i.turnId === turnId ? i.content : []));
  return parts.length ? parts.slice(0, MAX_PARTS) : null;
}
