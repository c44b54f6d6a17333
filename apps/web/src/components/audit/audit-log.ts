import { AuditOutcome, Uuid, type AuditActor, type AuditEvent, type AuditEventView } from '@yoke/protocol';

/**
 * The audit page's pure logic: filters (to and from the address bar, to the API, against live events), merging
 * pages and live events by seq, and the words the page uses for actors, targets and governance events.
 */

/** An event as the page holds it: a live event has no recorded leaf until a page brings the same seq. */
export type AuditRow = { event: AuditEvent; leaf: string | null; content: AuditEventView['content'] };

export type AuditFilter = {
  action: string;
  /** An actor id (user, token, runner or session id; `yoke` for the system), as the server matches it. */
  actor: string;
  outcome: AuditOutcome | '';
  sessionId: string;
  /** ISO-8601 instants, or '' for an open end. */
  from: string;
  to: string;
};

export const EMPTY_FILTER: AuditFilter = { action: '', actor: '', outcome: '', sessionId: '', from: '', to: '' };

/** The address bar's names for the filter fields (`/audit/?action=…&session=…`). */
const PARAMS: Record<keyof AuditFilter, string> = {
  action: 'action',
  actor: 'actor',
  outcome: 'outcome',
  sessionId: 'session',
  from: 'from',
  to: 'to',
};

const ACTION = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;

/** Reads a filter from the address bar; a value the server would refuse is dropped, not sent. */
export function readFilter(params: { get(name: string): string | null }): AuditFilter {
  const get = (k: keyof AuditFilter) => params.get(PARAMS[k])?.trim() ?? '';
  const outcome = AuditOutcome.safeParse(get('outcome'));
  const session = get('sessionId').toLowerCase();
  const action = get('action');
  return {
    action: ACTION.test(action) && action.length <= 64 ? action : '',
    actor: get('actor').slice(0, 200),
    outcome: outcome.success ? outcome.data : '',
    sessionId: Uuid.safeParse(session).success ? session : '',
    from: toIso(get('from')),
    to: toIso(get('to')),
  };
}

export function filterSearch(f: AuditFilter): string {
  const q = new URLSearchParams();
  for (const k of Object.keys(PARAMS) as (keyof AuditFilter)[]) if (f[k]) q.set(PARAMS[k], f[k]);
  return q.toString();
}

export function isFiltered(f: AuditFilter): boolean {
  return Object.values(f).some((v) => v !== '');
}

/** The API's query for a filter and a page (`after` a seq, ascending). */
export function eventsQuery(f: AuditFilter, after: number, limit: number): string {
  const q = new URLSearchParams();
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  if (f.actor) q.set('actor', f.actor);
  if (f.action) q.set('action', f.action);
  if (f.outcome) q.set('outcome', f.outcome);
  if (f.sessionId) q.set('sessionId', f.sessionId);
  if (after > 0) q.set('after', String(after));
  q.set('limit', String(limit));
  return q.toString();
}

/** Whether a live event belongs in a filtered list: the server's own rules (exact actor id, action, session). */
export function matchesFilter(e: AuditEvent, f: AuditFilter): boolean {
  if (f.action && e.action !== f.action) return false;
  if (f.actor && e.actor.id !== f.actor) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.sessionId && e.sessionId !== f.sessionId) return false;
  const at = Date.parse(e.at);
  if (f.from && at < Date.parse(f.from)) return false;
  if (f.to && at > Date.parse(f.to)) return false;
  return true;
}

/** A time the user typed (`datetime-local` gives local time without a zone) as an ISO instant, or ''. */
export function toIso(value: string): string {
  if (!value) return '';
  const t = Date.parse(value);
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
}

/** An ISO instant as a `datetime-local` value in the browser's zone (to the second). */
export function toLocalInput(iso: string): string {
  const t = Date.parse(iso);
  if (!iso || Number.isNaN(t)) return '';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function rowOf(view: AuditEventView): AuditRow {
  return { event: view.event, leaf: view.leaf, content: view.content };
}

/** A live event: its content, if any, cannot have been redacted yet. */
export function rowOfLive(event: AuditEvent): AuditRow {
  return { event, leaf: null, content: event.contentHash ? { hash: event.contentHash, redacted: null } : null };
}

/**
 * Merges rows by seq, ascending, each seq once: a page's copy (with its recorded leaf and the state of its content)
 * wins over a live copy of the same event, so a live event and a page that overlap never show twice.
 */
export function mergeRows(rows: readonly AuditRow[], incoming: readonly AuditRow[]): AuditRow[] {
  if (incoming.length === 0) return rows as AuditRow[];
  const bySeq = new Map(rows.map((r) => [r.event.seq, r]));
  for (const r of incoming) {
    const known = bySeq.get(r.event.seq);
    if (!known || (known.leaf === null && r.leaf !== null)) bySeq.set(r.event.seq, r);
  }
  return [...bySeq.values()].sort((a, b) => a.event.seq - b.event.seq);
}

// ---- words ----

export const ACTOR_KIND_LABEL: Record<AuditActor['kind'], string> = {
  user: 'user',
  guest: 'guest',
  token: 'API token',
  runner: 'runner',
  agent: 'agent',
  system: 'system',
};

export const short = (id: string) => (id.length > 12 ? id.slice(0, 8) : id);

/** Who acted, in words: names from the event, else from the org's members, else a short id. */
export function actorName(a: AuditActor, names: ReadonlyMap<string, string>): string {
  const user = (id: string) => names.get(id) ?? short(id);
  const forWhom = a.onBehalfOf ? ` for ${user(a.onBehalfOf)}` : '';
  switch (a.kind) {
    case 'user':
      return a.name ?? user(a.id);
    case 'guest':
      return `${a.name ?? 'guest'}${forWhom}`;
    case 'token':
      return `${a.name ?? short(a.id)}${forWhom}`;
    case 'agent':
      return `${a.name ?? `session ${short(a.id)}`}${forWhom}`;
    case 'runner':
      return a.name ?? short(a.id);
    case 'system':
      return a.name ?? 'Yoke';
  }
}

export function targetLabel(e: AuditEvent): string {
  const t = e.target;
  return `${t.kind.replace(/_/g, ' ')} ${t.name ?? short(t.id)}`;
}

/** Every action the server records (docs/audit.md), offered as suggestions in the action filter. */
export const KNOWN_ACTIONS = [
  'agent.created',
  'agent.deleted',
  'agent.updated',
  'api_token.created',
  'api_token.revoked',
  'approval.decided',
  'approval.requested',
  'audit.downloaded',
  'audit.exported',
  'audit.read',
  'audit_sink.created',
  'audit_sink.deleted',
  'audit_sink.tested',
  'audit_sink.updated',
  'auth.device_login',
  'auth.sign_in',
  'auth.sign_in_failed',
  'auth.sign_out',
  'budget.cap_reached',
  'budget.created',
  'budget.deleted',
  'budget.threshold_crossed',
  'budget.updated',
  'comment.created',
  'guest.joined',
  'invitation.accepted',
  'invitation.revoked',
  'legal_hold.placed',
  'legal_hold.read',
  'legal_hold.released',
  'member.invited',
  'member.removed',
  'member.role_changed',
  'org.created',
  'policy.decision',
  'policy_set.changed',
  'retention.erased',
  'retention.previewed',
  'retention.run',
  'retention.updated',
  'runner.connected',
  'runner.disconnected',
  'runner.enrolled',
  'runner.enrolment_created',
  'runner.revoked',
  'runner.rotated',
  'session.archived',
  'session.cancelled',
  'session.created',
  'session.forked',
  'session.prompt',
  'session.restored',
  'session.turn_failed',
  'share.created',
  'share.grant_changed',
  'share.grant_revoked',
  'share.granted',
  'share.redeemed',
  'share.revoked',
  'sso.removed',
  'sso.updated',
  'tool.call',
  'tool.result',
  'usage.mismatch',
  'usage.report_read',
] as const;

// ---- governance ----

/** What kind of governance step an event is, for its badge. */
export type GovernanceKind =
  'denied' | 'failed' | 'ask' | 'approval' | 'decision' | 'tool' | 'prompt' | 'spend' | 'session';

export type GovernanceStep = { kind: GovernanceKind; label: string; summary: string };

/** Whether an event belongs on a session's governance timeline (reading the audit log itself does not). */
export function isGovernance(e: AuditEvent): boolean {
  return e.sessionId !== null && !e.action.startsWith('audit.');
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : null);

/** "45 s", "3 min 5 s", "2 h 4 min". */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.floor((s % 3600) / 60);
  return m ? `${Math.floor(s / 3600)} h ${m} min` : `${s / 3600} h`;
}

/** One event of a session's governance timeline in words: what happened, who did it, how long it waited. */
export function governanceStep(e: AuditEvent, names: ReadonlyMap<string, string>): GovernanceStep {
  const d = e.details;
  const who = actorName(e.actor, names);
  switch (e.action) {
    case 'policy.decision': {
      const verdict = str(d.verdict) ?? (e.outcome === 'denied' ? 'deny' : 'ask');
      const policies = str(d.policies);
      const on = str(d.action)?.replace(/_/g, ' ');
      const summary = [on && `on ${on}`, policies && `policy ${policies}`].filter(Boolean).join(', ');
      if (verdict === 'deny') return { kind: 'denied', label: 'Denied by policy', summary };
      if (verdict === 'ask') return { kind: 'ask', label: 'Policy asked', summary };
      return { kind: 'decision', label: `Policy: ${verdict}`, summary };
    }
    case 'approval.requested': {
      const policy = str(d.policy);
      return { kind: 'ask', label: 'Approval requested', summary: policy ? `policy ${policy}` : '' };
    }
    case 'approval.decided': {
      const decision = str(d.decision) ?? (e.outcome === 'success' ? 'approve' : 'deny');
      const waited = typeof d.waitedSeconds === 'number' ? `, after waiting ${formatWait(d.waitedSeconds)}` : '';
      const verb = decision === 'approve' ? 'Approved' : decision === 'deny' ? 'Denied' : `Decided (${decision})`;
      return { kind: e.outcome === 'success' ? 'approval' : 'denied', label: verb, summary: `by ${who}${waited}` };
    }
    case 'tool.call': {
      const tool = str(d.tool) ?? e.target.name ?? 'tool';
      const status = str(d.status);
      return {
        kind: e.outcome === 'denied' ? 'denied' : 'tool',
        label: `Tool call: ${tool}`,
        summary: status ? status : '',
      };
    }
    case 'tool.result': {
      const exit = typeof d.exitCode === 'number' ? ` (exit ${d.exitCode})` : '';
      return { kind: e.outcome === 'failed' ? 'failed' : 'tool', label: 'Tool result', summary: `${e.outcome}${exit}` };
    }
    case 'session.prompt':
      return { kind: 'prompt', label: 'Prompt', summary: `by ${who}` };
    case 'session.created': {
      const parent = str(d.parentId);
      return {
        kind: 'session',
        label: parent ? 'Delegated session created' : 'Session created',
        summary: [str(d.agent) && `agent ${str(d.agent)}`, str(d.harness), str(d.model)].filter(Boolean).join(' · '),
      };
    }
    case 'session.forked':
      return { kind: 'session', label: 'Forked', summary: str(d.forkId) ? `into ${short(str(d.forkId)!)}` : '' };
    case 'session.cancelled':
      return { kind: 'session', label: 'Cancelled', summary: `by ${who}` };
    case 'session.archived':
      return { kind: 'session', label: 'Archived', summary: `by ${who}` };
    case 'session.restored':
      return { kind: 'session', label: 'Restored', summary: `by ${who}` };
    case 'session.turn_failed':
      return { kind: 'failed', label: 'Turn failed', summary: '' };
    default:
      if (e.action.startsWith('spend.') || e.action.includes('spend')) {
        return { kind: 'spend', label: 'Spend', summary: e.action };
      }
      return { kind: 'session', label: e.action, summary: `by ${who}` };
  }
}
